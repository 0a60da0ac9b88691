import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

// A daemon started from a plain user shell may lack the sbin folders, where Debian puts runc.
const EXTRA_SEARCH_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of an executable on PATH (or in the sbin folders), or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_SEARCH_DIRS].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * The init for `run --init`: the configured one, else Docker's docker-init, else a static tini
 * or catatonit from Debian (bound into the container, so it must not need the image's libc).
 */
export function findInit(configured: string | undefined): string | undefined {
  return configured ?? findExecutable('docker-init') ?? findExecutable('tini-static') ?? findExecutable('catatonit');
}
