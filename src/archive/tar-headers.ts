/**
 * Tar entries of files from their lstat, shared by the daemon's packers (pack-entries.ts) and
 * the CLI's (which packs the host side of `berth cp`). No native code here: the CLI bundles it.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Headers, Pack } from 'tar-stream';

/** Files are read in pieces this big: every piece costs a trip to the thread pool and through the streams. */
const FILE_READ_BYTES = 1024 * 1024;

/** tar-stream fills and writes `pax` with the entry's PAX records; its type definitions leave it out. */
export type Header = Headers & { pax?: Record<string, string> };

/** The header of `stats` under `name` (a directory's name gets its trailing '/'); size 0 unless a regular file. */
export function statHeader(name: string, stats: Stats): Header {
  const header: Header = {
    name: stats.isDirectory() && !name.endsWith('/') ? `${name}/` : name,
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
  return header;
}

function entryType(stats: Stats): Headers['type'] {
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isCharacterDevice()) return 'character-device';
  if (stats.isBlockDevice()) return 'block-device';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isFile()) return 'file';
  throw new Error('an entry of unknown type cannot go into a tar');
}

/**
 * Writes files into a tar-stream pack by path, as Docker's archive does: symlinks stored, never
 * followed; sockets left out (a running program's endpoint, not content); a file with more links
 * as a hard link to its first entry. `decorate` may add to each header (the daemon adds xattrs).
 */
export class TreeTarWriter {
  private readonly hardLinks = new Map<string, string>();

  constructor(
    private readonly archive: Pack,
    private readonly decorate: (header: Header, path: string) => void = () => {},
  ) {}

  async addPath(path: string, name: string): Promise<void> {
    const stats = await lstat(path);
    if (stats.isSocket()) return;
    const header = statHeader(name, stats);
    this.decorate(header, path);
    const inode = `${stats.dev}:${stats.ino}`;
    if (stats.isFile() && stats.nlink > 1) {
      const first = this.hardLinks.get(inode);
      if (first !== undefined) return this.add({ ...header, type: 'link', linkname: first, size: 0 });
      this.hardLinks.set(inode, name);
    }
    if (stats.isSymbolicLink()) header.linkname = await readlink(path);
    if (stats.isFile()) await this.addFile(header, path, stats);
    else await this.add(header);
  }

  add(header: Header): Promise<void> {
    // An entry without data still takes an (empty) buffer, or tar-stream waits for its stream to end.
    return new Promise((resolve, reject) => this.archive.entry(header, '', (err) => (err ? reject(err) : resolve())));
  }

  /**
   * The file read is the one lstat'ed: a running container may swap it meanwhile (O_NONBLOCK
   * keeps a FIFO put in its place from hanging us), and only the size in the header is read, so a
   * file that grows while it is packed still makes a valid entry.
   */
  private async addFile(header: Header, path: string, stats: Stats): Promise<void> {
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const opened = await file.stat();
      if (opened.ino !== stats.ino || opened.dev !== stats.dev) throw new Error(`${path} changed while it was packed`);
      if (stats.size === 0) return await this.add(header);
      await new Promise<void>((resolve, reject) => {
        const sink = this.archive.entry(header, (err) => (err ? reject(err) : resolve()));
        pipeline(file.createReadStream({ start: 0, end: stats.size - 1, autoClose: false, highWaterMark: FILE_READ_BYTES }), sink).catch(reject);
      });
    } finally {
      await file.close();
    }
  }
}

/**
 * The tree under `top` (lstat'ed as `stats`), depth first in name order, never following a link;
 * a directory for which `descend` says no is an entry without contents (the daemon does not
 * enter a running container's kernel views so).
 */
export async function* walk(top: string, stats: Stats, descend: (dir: string) => Promise<boolean> = async () => true): AsyncGenerator<string> {
  yield top;
  if (!stats.isDirectory() || !(await descend(top))) return;
  for (const name of (await readdir(top)).sort()) {
    const path = top === '/' ? `/${name}` : `${top}/${name}`;
    let child: Stats;
    try {
      child = await lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone meanwhile
      throw err;
    }
    yield* walk(path, child, descend);
  }
}
