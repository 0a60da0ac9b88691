/**
 * Copy-up: a new, empty volume mounted over a folder of the image is first filled with that
 * folder's content, ownership, modes, times, links and extended attributes kept (moby's
 * copyExistingContents). The source is resolved inside the stopped rootfs, so a symbolic link in
 * the image cannot make berthd copy a host folder; `cp -a` copies links as links.
 */
import { execFile } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { BerthError } from '../../common/errors.js';
import { resolveInRoot } from '../../runtime/scoped-path.js';

const run = promisify(execFile);

/** Copies the rootfs's `destination` folder into the (empty) volume folder; nothing when the image has none. */
export async function copyUp(rootfs: string, destination: string, volumePath: string): Promise<boolean> {
  const source = await resolveInRoot(rootfs, destination);
  const stats = await lstat(source).catch(() => undefined);
  if (!stats?.isDirectory()) return false;
  try {
    // `SRC/.` into the existing folder: its content, and its own owner and mode onto the volume's root.
    await run('cp', ['-a', '--', `${source}/.`, volumePath], { maxBuffer: 1 << 20 });
  } catch (err) {
    throw new BerthError('internal', `copying the image's content of ${destination} into its volume: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`);
  }
  return true;
}
