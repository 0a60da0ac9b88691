import { constants, type Stats } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { pack, type Headers, type Pack } from 'tar-stream';
import { lgetxattr, llistxattr } from '../native/index.js';
import { base64XattrsAsBinary, xattrPaxRecord } from './pax-xattrs.js';
import { TarRewriter } from './tar-rewriter.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './whiteouts.js';

/** An entry of a layer diff: a path (absolute in the layer) added, changed or deleted. */
export interface DiffEntry {
  path: string;
  kind: 'A' | 'C' | 'D';
  /** A directory that hides everything its parent layers had in it. */
  opaque: boolean;
}

// overlayfs's own bookkeeping, never part of a layer's content.
const PRIVATE_XATTR_PREFIX = 'trusted.overlay.';

/**
 * Writes the OCI layer tar of `entries`, read from the directory `top`, to `out`: A and C
 * entries with their content and metadata (owner, mode, times, xattrs, hard links within the
 * tar), D entries as `.wh.NAME` whiteouts, opaque directories followed by `.wh..wh..opq` (and the
 * deletions under them left implied). Symlinks are stored, never followed; files are opened
 * O_NOFOLLOW. Runs confined (pack-helper.ts): `top` is '' there, the chroot's root.
 */
export async function writeDiffTar(
  top: string,
  entries: Iterable<DiffEntry> | AsyncIterable<DiffEntry>,
  out: Writable,
  nameOf: (path: string) => string = (path) => path.slice(1),
): Promise<void> {
  const archive = pack();
  // Binary xattr values pass tar-stream in base64 and are written raw (see pax-xattrs.ts).
  const written = pipeline(archive, new TarRewriter({ sparseToPax: false, rewritePax: base64XattrsAsBinary }), out);
  try {
    await writeEntries(archive, top, entries, nameOf);
    archive.finalize();
  } catch (err) {
    archive.destroy(err as Error);
  }
  await written;
}

async function writeEntries(
  archive: Pack,
  top: string,
  entries: Iterable<DiffEntry> | AsyncIterable<DiffEntry>,
  nameOf: (path: string) => string,
): Promise<void> {
  const hardLinks = new Map<string, string>();
  const opaqueDirs: string[] = [];
  for await (const entry of entries) {
    const name = nameOf(entry.path);
    if (entry.kind === 'D') {
      if (opaqueDirs.some((dir) => entry.path.startsWith(`${dir}/`))) continue;
      await add(archive, { name: posix.join(posix.dirname(name), `${WHITEOUT_PREFIX}${posix.basename(name)}`), type: 'file', size: 0, mode: 0o644 });
      continue;
    }
    const path = top + entry.path;
    const stats = await lstat(path);
    // As Docker does: a socket is a running program's endpoint, not content.
    if (stats.isSocket()) continue;
    const header = headerFor(name, stats, path);
    const inode = `${stats.dev}:${stats.ino}`;
    if (stats.isFile() && stats.nlink > 1) {
      const first = hardLinks.get(inode);
      if (first !== undefined) {
        await add(archive, { name, type: 'link', linkname: first, size: 0 });
        continue;
      }
      hardLinks.set(inode, name);
    }
    if (stats.isSymbolicLink()) header.linkname = await readlink(path);
    if (stats.isFile()) await addFile(archive, header, path, stats);
    else await add(archive, header);
    if (entry.opaque) {
      opaqueDirs.push(entry.path);
      await add(archive, { name: posix.join(name, OPAQUE_WHITEOUT), type: 'file', size: 0, mode: 0o644 });
    }
  }
}

function headerFor(name: string, stats: Stats, path: string): Headers & { pax?: Record<string, string> } {
  const header: Headers & { pax?: Record<string, string> } = {
    name: stats.isDirectory() ? `${name}/` : name,
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    mtime: stats.mtime,
    size: stats.isFile() ? stats.size : 0,
    type: entryType(stats),
  };
  if (stats.isCharacterDevice() || stats.isBlockDevice()) {
    header.devmajor = Math.floor(stats.rdev / 256) & 0xfff;
    header.devminor = (stats.rdev & 0xff) | ((stats.rdev >> 12) & 0xfff00);
  }
  const pax: Record<string, string> = {};
  for (const name of llistxattr(path)) {
    if (name.startsWith(PRIVATE_XATTR_PREFIX)) continue;
    const value = lgetxattr(path, name);
    if (value) {
      const [key, text] = xattrPaxRecord(name, value);
      pax[key] = text;
    }
  }
  if (Object.keys(pax).length > 0) header.pax = pax;
  return header;
}

function entryType(stats: Stats): Headers['type'] {
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isCharacterDevice()) return 'character-device';
  if (stats.isBlockDevice()) return 'block-device';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isFile()) return 'file';
  throw new Error('an entry of unknown type cannot go into a layer tar');
}

function add(archive: Pack, header: Headers): Promise<void> {
  // An entry without data still takes an (empty) buffer, or tar-stream waits for its stream to end.
  return new Promise((resolve, reject) => archive.entry(header, '', (err) => (err ? reject(err) : resolve())));
}

/**
 * The file read is the one lstat'ed: a running container may swap it meanwhile (O_NONBLOCK keeps
 * a FIFO put in its place from hanging us), and only the size in the header is read, so a file
 * that grows while it is packed still makes a valid entry.
 */
async function addFile(archive: Pack, header: Headers, path: string, stats: Stats): Promise<void> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const opened = await file.stat();
    if (opened.ino !== stats.ino || opened.dev !== stats.dev) throw new Error(`${path} changed while it was packed`);
    if (stats.size === 0) return await add(archive, header);
    await new Promise<void>((resolve, reject) => {
      const sink = archive.entry(header, (err) => (err ? reject(err) : resolve()));
      pipeline(file.createReadStream({ start: 0, end: stats.size - 1, autoClose: false }), sink).catch(reject);
    });
  } finally {
    await file.close();
  }
}
