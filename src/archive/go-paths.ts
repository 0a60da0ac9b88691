/**
 * The path rules of Docker's archive copy (moby pkg/archive copy.go, Go's path/filepath), used
 * on both sides of docker cp: the daemon's (container-paths.ts) and the CLI's. A trailing '/'
 * or '/.' carries meaning there ("a directory", "its contents"), so these keep it where Go does.
 * Pure string functions: no file system, no native code.
 */
import { posix } from 'node:path';

/** Go's filepath.Clean: no trailing '/' except for the root; '.' for an empty relative path. */
export function goClean(path: string): string {
  const normalised = posix.normalize(path);
  return normalised.length > 1 && normalised.endsWith('/') ? normalised.slice(0, -1) : normalised;
}

/** Go's filepath.Base: the last element, trailing slashes ignored; '/' for the root, '.' for ''. */
export function goBase(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return path === '' ? '.' : '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Go's filepath.Dir. */
export const goDir = (path: string): string => goClean(posix.dirname(path.endsWith('/') && path.length > 1 ? `${path}x` : path));

export const hasTrailingSeparator = (path: string): boolean => path.endsWith('/');

/** Whether the path names "the current directory" (`dir/.`, `.`): copy the contents, not the folder. */
export const specifiesCurrentDir = (path: string): boolean => goBase(path) === '.';

/** Whether the path can only be a directory (it ends with '/' or '/.'). */
export const assertsDirectory = (path: string): boolean => hasTrailingSeparator(path) || specifiesCurrentDir(path);

/** moby's PreserveTrailingDotOrSeparator: `cleaned` gets back the trailing '/.' or '/' of `original`. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let path = cleaned;
  if (!specifiesCurrentDir(path) && specifiesCurrentDir(original)) path = `${hasTrailingSeparator(path) ? path : `${path}/`}.`;
  if (!hasTrailingSeparator(path) && hasTrailingSeparator(original)) path += '/';
  return path;
}

/** moby's SplitPathDirEntry: the parent and the entry, `dir/.` giving (dir, '.'). */
export function splitPathDirEntry(path: string): [dir: string, base: string] {
  let cleaned = goClean(path);
  if (specifiesCurrentDir(path)) cleaned += cleaned.endsWith('/') ? '.' : '/.';
  return [goDir(cleaned), goBase(cleaned)];
}

/**
 * moby's GetRebaseName: `resolved` (a link's target) gets back the trailing '/.' or '/' of
 * `path`, and the base name entries must be renamed to when the link changed it ('' if not).
 */
export function rebaseName(path: string, resolved: string): [resolved: string, rebase: string] {
  let target = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(target)) target += '/.';
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(target)) target += '/';
  return [target, goBase(path) !== goBase(target) ? goBase(path) : ''];
}

/**
 * The tar names moby's TarResourceRebase gives the tree at `top`: `top` itself is `prefix`, the
 * rest `prefix/relative/path` (for the root, `prefix` '' makes them `/etc`, `/bin`…).
 */
export function entryNamer(top: string, prefix: string): (path: string) => string {
  return (path) => (path === top ? prefix : `${prefix}/${path.slice(top === '/' ? 1 : top.length + 1)}`);
}
