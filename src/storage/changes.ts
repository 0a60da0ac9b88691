import { lstatSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { bytePathOf, childPath, fsPath, namesInFolder, parentPath, pathUnder, type BytePath } from '../common/byte-path.js';
import { errnoCode } from '../common/errors.js';
import { lgetxattr } from '../native/index.js';

/**
 * One entry of `docker diff`: A added, C changed, D deleted; `path` is absolute in the rootfs, the
 * name's bytes as they are on disk (they need not be UTF-8: see byte-path.ts).
 */
export interface Change {
  path: BytePath;
  kind: 'A' | 'C' | 'D';
}

/**
 * A Change, telling also whether a changed directory hides everything its parent layers had in it,
 * and whether only its modification time changed.
 */
export interface LayerChange extends Change {
  opaque: boolean;
  timeOnly?: boolean;
}

/**
 * What a layer's changes are computed from.
 * - `top`: the layer's own entries (overlay: its upper dir; vfs: its full copy).
 * - `parent`: the parent layer's root filesystem as a reader sees it, or null for a base layer.
 * - `complete`: whether an entry missing from `top` is deleted (a full copy) or inherited (an
 *   overlay upper dir, where deletions are 0/0 character devices and opaque directories are
 *   marked with the trusted.overlay.opaque xattr).
 */
export interface LayerTree {
  top: string;
  parent: string | null;
  complete: boolean;
}

/** Entries looked up between two turns of the event loop (a few milliseconds of lstat calls). */
const LSTAT_SLICE = 256;

/**
 * The changes of a layer against its parent, as `docker diff` reports them (moby's
 * pkg/archive changes): depth first, names sorted. An added or deleted entry whose parent
 * directory is not itself reported brings a C for that directory; a directory deleted with
 * everything in it is one D; a directory whose own metadata is unchanged is not reported for a
 * changed file inside it. On overlay a file in the upper dir counts as changed (it was copied up).
 */
export async function layerChanges(tree: LayerTree): Promise<LayerChange[]> {
  const changes: LayerChange[] = [];
  const reported = new Set<BytePath>();
  const top = bytePathOf(tree.top);
  const lower = tree.parent === null ? null : bytePathOf(tree.parent);
  const report = (path: BytePath, kind: Change['kind'], opaque = false, timeOnly = false): void => {
    const parent = parentPath(path);
    if (kind !== 'C' && parent !== '/' && !reported.has(parent)) {
      changes.push({ path: parent, kind: 'C', opaque: false });
      reported.add(parent);
    }
    changes.push(timeOnly ? { path, kind, opaque, timeOnly } : { path, kind, opaque });
    if (kind !== 'D') reported.add(path);
  };

  const walk = async (dir: BytePath, complete: boolean): Promise<void> => {
    const own = await namesIn(pathUnder(top, dir));
    const names = complete && lower !== null ? union(own, await namesIn(pathUnder(lower, dir))) : own;
    // lstat round trips through the thread pool dominate a walk of many small entries: entries are
    // looked up synchronously, LSTAT_SLICE at a time, the event loop getting its turn in between.
    const looked: Array<{ path: BytePath; stats?: Stats; before?: Stats }> = [];
    for (let start = 0; start < names.length; start += LSTAT_SLICE) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (const name of names.slice(start, start + LSTAT_SLICE)) {
        const path = childPath(dir, name);
        looked.push({ path, stats: lstatIfExists(pathUnder(top, path)), before: lower === null ? undefined : lstatIfExists(pathUnder(lower, path)) });
      }
    }
    for (const { path, stats, before } of looked) {
      if (!stats || (!complete && isOverlayWhiteout(stats))) {
        if (before) report(path, 'D');
        continue;
      }
      const opaque = !complete && stats.isDirectory() && before?.isDirectory() === true && isOverlayOpaque(pathUnder(top, path));
      if (!before) report(path, 'A');
      else if (opaque || differs(stats, before, complete)) report(path, 'C', opaque, !opaque && stats.isDirectory() && sameMetadata(stats, before));
      if (stats.isDirectory()) await walk(path, complete || opaque);
    }
  };
  await walk('/' as BytePath, tree.complete);
  // A base layer is an image's own: what it holds at those paths was put there on purpose.
  return tree.parent === null ? changes : withoutMountPoints(changes);
}

/**
 * The files and folders a run adds to a container's layer only as the targets of its mounts
 * (moby keeps them in a hidden "init" layer under the container's, daemon/initlayer): the
 * generated /etc files and the kernel filesystems. Neither `docker diff` nor a commit shows them.
 */
export const MOUNT_POINT_PATHS: ReadonlySet<string> = new Set([
  '/dev/pts',
  '/dev/shm',
  '/dev/console',
  '/proc',
  '/sys',
  '/.dockerenv',
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/hostname',
  '/etc/mtab',
]);

/**
 * Drops the mount points a run added, and the C of the folder they were added in (/etc, /dev)
 * when adding them is all that changed it: its modification time alone, and no entry added or
 * deleted in it besides them. Its other changes are still reported.
 */
function withoutMountPoints(changes: LayerChange[]): LayerChange[] {
  const hidden = changes.filter((change) => change.kind === 'A' && MOUNT_POINT_PATHS.has(change.path));
  if (hidden.length === 0) return changes;
  const under = (path: BytePath, folder: BytePath) => path === folder || path.startsWith(`${folder}/`);
  const kept = changes.filter((change) => !hidden.some((mountPoint) => under(change.path, mountPoint.path)));
  const parents = new Set(hidden.map((change) => parentPath(change.path)));
  const addsOrDeletesIn = (folder: BytePath) => kept.some((other) => other.kind !== 'C' && parentPath(other.path) === folder);
  return kept.filter((change) => !(change.kind === 'C' && change.timeOnly && parents.has(change.path) && !addsOrDeletesIn(change.path)));
}

/**
 * The changes with every folder above a changed entry, as a layer tar carries them (moby packs
 * the whole upper dir): a folder only passed through comes as an unchanged 'C' before its
 * entries, so that the tar restores its owner and mode wherever it is unpacked.
 */
export function withParentFolders(changes: LayerChange[]): LayerChange[] {
  const listed = new Set(changes.map((change) => change.path));
  const result: LayerChange[] = [];
  for (const change of changes) {
    const missing: BytePath[] = [];
    for (let dir = parentPath(change.path); dir !== '/' && !listed.has(dir); dir = parentPath(dir)) missing.unshift(dir);
    for (const dir of missing) {
      listed.add(dir);
      result.push({ path: dir, kind: 'C', opaque: false });
    }
    result.push(change);
  }
  return result;
}

/** The 0/0 character device overlayfs leaves where a lower entry was deleted. */
export function isOverlayWhiteout(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

function isOverlayOpaque(path: BytePath): boolean {
  return lgetxattr(fsPath(path), 'trusted.overlay.opaque')?.toString() === 'y';
}

function sameMetadata(own: Stats, lower: Stats): boolean {
  return own.mode === lower.mode && own.uid === lower.uid && own.gid === lower.gid;
}

function differs(own: Stats, lower: Stats, complete: boolean): boolean {
  if (!sameMetadata(own, lower)) return true;
  if (own.isDirectory()) return own.mtimeMs !== lower.mtimeMs;
  // An overlay upper entry exists only because it was written (copied up).
  return !complete || own.size !== lower.size || own.mtimeMs !== lower.mtimeMs || own.rdev !== lower.rdev;
}

/** The names in `dir`, in byte order (moby's). */
async function namesIn(dir: BytePath): Promise<BytePath[]> {
  try {
    return (await namesInFolder(dir)).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

function lstatIfExists(path: BytePath): Stats | undefined {
  try {
    return lstatSync(fsPath(path), { throwIfNoEntry: false });
  } catch (err) {
    if (errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

function union(a: BytePath[], b: BytePath[]): BytePath[] {
  return [...new Set([...a, ...b])].sort();
}
