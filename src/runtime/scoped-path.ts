/**
 * Path resolution confined to a root folder, as moby/sys/symlink.FollowSymlinkInScope: symlinks
 * inside a container's rootfs are followed as the container would see them, so an absolute link
 * target or a run of `..` never leads out of the rootfs.
 *
 * This closes the plain escape (a link /etc/passwd -> /etc/shadow read as the host's file), not a
 * race with a process that swaps links while we resolve; callers use it only on stopped rootfs
 * contents or for data they treat as untrusted anyway.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { errnoCode, invalidParameter } from '../common/errors.js';

// Linux's own limit on links followed in one lookup is 40; moby allows 255.
const MAX_SYMLINKS = 255;

/** The host path that `path` (as seen from inside `root`) names, every link resolved inside root. */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  let resolved = '/'; // the part done, always clean and absolute within root
  let pending = path;
  let followed = 0;
  while (pending !== '') {
    const slash = pending.indexOf('/');
    const part = slash === -1 ? pending : pending.slice(0, slash);
    pending = slash === -1 ? '' : pending.slice(slash + 1);
    if (part === '' || part === '.') continue;
    const next = posix.join(resolved, part); // join() normalises `..` and cannot climb above '/'
    if (part === '..') {
      resolved = next;
      continue;
    }
    let isLink = false;
    try {
      isLink = (await lstat(join(root, next))).isSymbolicLink();
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    }
    if (!isLink) {
      resolved = next;
      continue;
    }
    if (++followed > MAX_SYMLINKS) throw invalidParameter(`too many links resolving ${path} in the container`);
    const target = await readlink(join(root, next));
    if (target.startsWith('/')) resolved = '/';
    pending = pending === '' ? target : `${target}/${pending}`;
  }
  return join(root, resolved);
}
