/** Full disks for tests: a small tmpfs as a daemon's data root, and a file that fills it. */
import { execFile } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A `prepare` for startDaemon: the data root is a tmpfs of `megabytes` (stop() unmounts it). */
export function tmpfsDataRoot(megabytes: number): (base: string) => Promise<void> {
  return async (base) => {
    await mkdir(join(base, 'data'));
    await run('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', join(base, 'data')]);
  };
}

/** Writes `path` until its file system is full, the last partial page included. */
export async function fillDisk(path: string): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (const chunk = Buffer.alloc(64 << 10, 1); ; ) await file.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await file.close().catch(() => {});
  }
  await writeFile(`${path}.last`, Buffer.alloc(4096)).catch(() => {});
}
