import { posix } from 'node:path';

/**
 * The absolute path, inside the chroot, that a tar entry name (or hard link target) refers to.
 * Leading '/' and '..' components that climb above the root are dropped, as a kernel path walk
 * from '/' would; the result never ends with '/' except for the root itself.
 */
export function entryPath(name: string): string {
  const normalised = posix.normalize(`/${name}`);
  return normalised.length > 1 && normalised.endsWith('/') ? normalised.slice(0, -1) : normalised;
}
