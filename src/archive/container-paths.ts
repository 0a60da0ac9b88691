/**
 * Docker's rules for the paths of `docker cp` (moby's container.ResolvePath, StatPath,
 * SplitPathDirEntry, TarResourceRebaseOpts, GetResourcePath), for code that runs chrooted into a
 * container's root (copy-helper.ts): every name is resolved by the kernel inside that root, so
 * no symlink, `..` or swap race reaches out of it; scoped resolution (resolveInRoot with '/')
 * only gives dangling links and missing parents Docker's meaning.
 */
import { lstat, statfs } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { resolveInRoot } from '../runtime/scoped-path.js';
import { entryNamer, goBase, goClean, preserveTrailingDotOrSeparator } from './go-paths.js';
import type { DiffEntry } from './pack-entries.js';
import { pathStat, type PathStat } from './path-stat.js';
import { walk } from './tar-headers.js';

// Kernel views mounted into a running container (statfs f_type): what they show is the kernel's
// state, not the container's content; Docker's cp, which reads the rootfs, never sees them.
const KERNEL_FILESYSTEMS = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
  0x1cd1, // devpts
  0x19800202, // mqueue
  0x73636673, // securityfs
  0x64626720, // debugfs
  0x74726163, // tracefs
  0xcafe4a11, // bpf
  0x6165676c, // pstore
  0x62656570, // configfs
  0x42494e4d, // binfmt_misc
]);

/** The user's path made absolute and clean, keeping the trailing '/' or '/.' that carries meaning. */
export const absolutePath = (path: string): string => preserveTrailingDotOrSeparator(goClean(`/${path}`), path);

/** Every link resolved inside the root, the last one included (where a copy is extracted to). */
export const resolveFully = (absPath: string): Promise<string> => resolveInRoot('/', absPath);

/** Links of the parents resolved, the last component kept as it is (what cp reads and stats). */
async function resolveParents(absPath: string): Promise<string> {
  const slash = absPath.lastIndexOf('/');
  const dir = await resolveInRoot('/', absPath.slice(0, slash + 1));
  return `${dir === '/' ? '' : dir}/${absPath.slice(slash + 1)}`;
}

/** An errno error worded as Go's os.PathError (what dockerd answers): "lstat /a/b: not a directory". */
function goPathError(err: unknown, op: string, path: string): unknown {
  const { code, message } = err as NodeJS.ErrnoException;
  const description = /^[A-Z]+: ([^,]+),/.exec(message)?.[1];
  return code && description ? Object.assign(new Error(`${op} ${path}: ${description}`), { code }) : err;
}

/** Whether `dir` is (in) a kernel view of a running container: shown as an empty directory. */
export const outsideKernelView = async (dir: string): Promise<boolean> => !KERNEL_FILESYSTEMS.has((await statfs(dir)).type);

/** lstat, with a path inside a kernel view (/proc/1, /sys/fs) taken as absent; the mount point itself is there. */
export async function lstatContent(path: string): Promise<Stats> {
  const stats = await lstat(path).catch((err: unknown) => {
    throw goPathError(err, 'lstat', path);
  });
  const parent = path.slice(0, path.replace(/\/+$/, '').lastIndexOf('/')) || '/';
  if (path !== '/' && !(await outsideKernelView(parent))) {
    throw Object.assign(new Error(`lstat ${path}: no such file or directory`), { code: 'ENOENT' });
  }
  return stats;
}

/** HEAD archive: the stat of `path` (a symlink itself, with where it leads). */
export async function statOf(path: string): Promise<PathStat> {
  const absPath = absolutePath(path);
  const resolved = await resolveParents(absPath);
  const stats = await lstatContent(resolved);
  const linkTarget = stats.isSymbolicLink() ? await resolveFully(absPath) : '';
  return pathStat(goBase(absPath), stats, linkTarget);
}

export interface ArchiveSource {
  stat: PathStat;
  /** The entries to pack (absolute paths in the root), depth first in name order. */
  entries: AsyncGenerator<DiffEntry>;
  /** The tar name of each entry, rebased as Docker does (the base the user asked for). */
  nameOf: (path: string) => string;
}

/** GET archive: what to pack for `path`, and under which names. */
export async function archiveSource(path: string): Promise<ArchiveSource> {
  const absPath = absolutePath(path);
  const resolved = await resolveParents(absPath);
  const stats = await lstatContent(resolved);
  const stat = pathStat(goBase(absPath), stats, stats.isSymbolicLink() ? await resolveFully(absPath) : '');
  const top = goClean(resolved);
  // Names start with the base the user asked for ('.' for `dir/.`); the root's with '/'.
  const rebase = goBase(absPath);
  const prefix = rebase === '/' ? '' : rebase;
  return { stat, entries: asEntries(walk(top, stats, outsideKernelView)), nameOf: entryNamer(top, prefix) };
}

/** The paths of `walk` as the layer packer takes them. */
export async function* asEntries(paths: AsyncIterable<string>): AsyncGenerator<DiffEntry> {
  for await (const path of paths) yield { path, kind: 'A', opaque: false };
}
