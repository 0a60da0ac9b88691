/**
 * The host side of `berth cp`, with the docker CLI's rules (moby pkg/archive copy.go): what a
 * local source or destination is, the tar of a local source, and how a tar's entries are renamed
 * so that extracting it into a directory gives the copy the user asked for.
 */
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import {
  assertsDirectory,
  entryNamer,
  goBase,
  goClean,
  hasTrailingSeparator,
  preserveTrailingDotOrSeparator,
  rebaseName,
  splitPathDirEntry,
} from '../archive/go-paths.js';
import { TreeTarWriter, walk } from '../archive/tar-headers.js';

/** A resource on one side of a copy (moby's archive.CopyInfo). */
export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  /** The base name the entries must take instead of the resource's own ('' to keep it). */
  rebaseName: string;
}

/** An absolute local path, keeping the trailing '/' or '/.' the user typed. */
export const resolveLocalPath = (path: string): string => preserveTrailingDotOrSeparator(resolve(path), path);

/** Go's error text for a failed system call: "lstat /x: no such file or directory". */
export function goPathError(err: unknown, op: string, path: string): Error {
  const description = /^[A-Z]+: ([^,]+),/.exec((err as Error).message)?.[1];
  return description ? Object.assign(new Error(`${op} ${path}: ${description}`), { code: (err as NodeJS.ErrnoException).code }) : (err as Error);
}

/** moby's CopyInfoSourcePath: links before the last '/' resolved (all of them with -L); it must exist. */
export async function copyInfoSourcePath(path: string, followLink: boolean): Promise<CopyInfo> {
  let resolved: string;
  let rebase = '';
  if (followLink) {
    [resolved, rebase] = rebaseName(path, await realpath(path).catch((err: unknown) => Promise.reject(goPathError(err, 'lstat', path))));
  } else {
    const slash = path.lastIndexOf('/');
    const dir = await realpath(path.slice(0, slash + 1) || '.').catch((err: unknown) => Promise.reject(goPathError(err, 'lstat', path)));
    resolved = `${dir === '/' ? '' : dir}/${path.slice(slash + 1)}`;
    if (hasTrailingSeparator(path) && goBase(path) !== goBase(resolved)) rebase = goBase(path);
  }
  const stats = await lstat(resolved).catch((err: unknown) => Promise.reject(goPathError(err, 'lstat', resolved)));
  return { path: resolved, exists: true, isDir: stats.isDirectory(), rebaseName: rebase };
}

const MAX_DESTINATION_LINKS = 10;

/** moby's CopyInfoDestinationPath: a final link is followed; a missing path needs an existing parent directory. */
export async function copyInfoDestinationPath(original: string): Promise<CopyInfo> {
  let path = original;
  for (let followed = 0; ; followed++) {
    let stats;
    try {
      stats = await lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw goPathError(err, 'lstat', path);
      const [parent] = splitPathDirEntry(path);
      const parentStats = await stat(parent).catch((e: unknown) => Promise.reject(goPathError(e, 'stat', parent)));
      if (!parentStats.isDirectory()) throw new Error('not a directory');
      return { path, exists: false, isDir: false, rebaseName: '' };
    }
    if (!stats.isSymbolicLink()) return { path, exists: true, isDir: stats.isDirectory(), rebaseName: '' };
    if (followed >= MAX_DESTINATION_LINKS) throw new Error(`too many symlinks in ${original}`);
    const target = await readlink(path);
    path = target.startsWith('/') ? target : goClean(`${splitPathDirEntry(path)[0]}/${target}`);
  }
}

/** moby's TarResource: the tar of a local resource, its entries named from its base (or rebaseName). */
export async function tarResource(info: CopyInfo): Promise<Readable> {
  const stats = await lstat(info.path).catch((err: unknown) => Promise.reject(goPathError(err, 'lstat', info.path)));
  const [dir, base] = splitPathDirEntry(info.path);
  const top = base === '.' || base === '/' ? dir : `${dir === '/' ? '' : dir}/${base}`;
  const prefix = info.rebaseName || (base === '/' ? '' : base);
  const nameOf = entryNamer(top, prefix);
  const archive = pack();
  const writer = new TreeTarWriter(archive);
  void (async () => {
    for await (const path of walk(top, stats)) await writer.addPath(path, nameOf(path));
    archive.finalize();
  })().catch((err: unknown) => archive.destroy(err as Error));
  return nodeReadable(archive);
}

/** tar-stream's packs are streamx streams; the client sends and pipes Node's. */
const nodeReadable = (archive: AsyncIterable<Buffer>): Readable => Readable.from(archive, { objectMode: false });

/** moby's RebaseArchiveEntries: the first `oldBase` of each name (and hard link target) becomes `newBase`. */
export function rebaseArchiveEntries(content: Readable, oldBase: string, newBase: string): Readable {
  const from = oldBase === '/' ? '' : oldBase;
  const entries = extract();
  const out = pack();
  void (async () => {
    content.on('error', (err) => entries.destroy(err));
    content.pipe(entries);
    for await (const entry of entries) {
      const header = { ...entry.header, name: entry.header.name.replace(from, newBase) };
      if (header.type === 'link' && header.linkname) header.linkname = header.linkname.replace(from, newBase);
      await pipeline(entry, out.entry(header));
    }
    out.finalize();
  })().catch((err: unknown) => out.destroy(err as Error));
  return nodeReadable(out);
}

/**
 * moby's PrepareArchiveCopy: the directory to extract `content` (the tar of `src`) into, and the
 * content renamed so that the copy lands at `dst` as `cp -a` would put it.
 */
export function prepareArchiveCopy(content: Readable, src: CopyInfo, dst: CopyInfo): { dstDir: string; content: Readable } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  const srcBase = src.rebaseName || splitPathDirEntry(src.path)[1];
  if (dst.exists && dst.isDir) return { dstDir: dst.path, content };
  if (dst.exists && src.isDir) throw new Error('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new Error('no such directory');
  return { dstDir, content: rebaseArchiveEntries(content, srcBase, dstBase) };
}
