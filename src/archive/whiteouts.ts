import { lstatSync, mkdirSync, readdirSync, rmSync, lchownSync, constants } from 'node:fs';
import { posix } from 'node:path';
import { lsetxattr, mknod } from '../native/index.js';

/**
 * OCI layer tars mark deletions with whiteout files: `.wh.NAME` hides NAME of the lower layers,
 * `.wh..wh..opq` in a directory hides everything the lower layers had in it.
 * - 'overlay': keep them in overlayfs's own form (a 0/0 character device NAME; the xattr
 *   trusted.overlay.opaque=y on the directory), for a layer that is mounted over its parents.
 * - 'delete': carry them out, for a layer that starts as a full copy of its parent (vfs).
 */
export type WhiteoutMode = 'overlay' | 'delete';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

export interface WhiteoutApplier {
  /** `path` is the hidden entry's path (the whiteout name without its prefix). */
  whiteout(path: string, owner: { uid: number; gid: number }): void;
  /** `dir` is the directory whose lower contents are hidden. */
  opaque(dir: string): void;
}

/**
 * `writtenByThisTar` holds every path the current tar has made (and their ancestors): an opaque
 * directory in 'delete' mode drops only what the copied parent brought in, whatever the order of
 * the marker and the tar's own entries.
 */
export function whiteoutApplier(mode: WhiteoutMode, writtenByThisTar: ReadonlySet<string>): WhiteoutApplier {
  if (mode === 'overlay') {
    return {
      whiteout(path, owner) {
        mkdirSync(posix.dirname(path), { recursive: true, mode: 0o755 });
        rmSync(path, { recursive: true, force: true });
        mknod(path, constants.S_IFCHR, 0);
        lchownSync(path, owner.uid, owner.gid);
      },
      opaque(dir) {
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        lsetxattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
      },
    };
  }
  const removeInherited = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = posix.join(dir, name);
      if (!writtenByThisTar.has(path)) rmSync(path, { recursive: true, force: true });
      else if (lstatSync(path).isDirectory()) removeInherited(path);
    }
  };
  return {
    whiteout(path) {
      rmSync(path, { recursive: true, force: true });
    },
    opaque(dir) {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      removeInherited(dir);
    },
  };
}
