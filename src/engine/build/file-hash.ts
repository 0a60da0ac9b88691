/**
 * Content hashes of COPY/ADD sources, as Docker's classic builder makes them (its tarsum v1 of
 * each file, moby daemon/builder/remotecontext): sha256 over the file's tar header fields —
 * name, mode (type bits included), uid, gid, size, type, link target, user and group names
 * (empty), device numbers,
 * security.capability — then its content. A file's hash is `file:<hex>`; a directory's is
 * `dir:<hex>` over the sorted hashes of everything in it (itself included); several sources
 * give `multi:<hex>` over theirs in order. The result is what history shows
 * (`COPY file:… in /dest `) and what the step's cache entry is keyed on, so a change to any
 * copied file's content, mode, owner or size invalidates exactly the steps that copy it.
 *
 * Files are read with lstat and never followed: the roots hashed here (an unpacked build
 * context, a stopped stage's layer) are written by nobody while the build reads them.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { lgetxattr } from '../../native/index.js';

const S_IFMT = 0o170000;
const TYPEFLAGS: Record<number, string> = {
  0o100000: '0',
  0o120000: '2',
  0o020000: '3',
  0o060000: '4',
  0o040000: '5',
  0o010000: '6',
};

/** The tar header fields tarsum v1 hashes, in its order (mtime left out). */
export interface HashedHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** security.capability, as Docker's archive carries it. */
  capability?: Buffer;
}

function headerHash(header: HashedHeader): Hash {
  const hash = createHash('sha256');
  const fields: Array<[string, string | Buffer]> = [
    ['name', header.name],
    ['mode', String(header.mode)],
    ['uid', String(header.uid)],
    ['gid', String(header.gid)],
    ['size', String(header.size)],
    ['typeflag', header.typeflag],
    ['linkname', header.linkname],
    ['uname', ''],
    ['gname', ''],
    ['devmajor', String(header.devmajor)],
    ['devminor', String(header.devminor)],
  ];
  if (header.capability) fields.push(['security.capability', header.capability]);
  for (const [key, value] of fields) {
    hash.update(key);
    hash.update(value);
  }
  return hash;
}

/** Linux's major/minor encoding of a dev_t. */
const major = (dev: number) => Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
const minor = (dev: number) => Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));

/** The header Go's tar.FileInfoHeader (no name lookups) makes of a file. */
async function headerOf(path: string, name: string, stats: Stats): Promise<HashedHeader> {
  const type = stats.mode & S_IFMT;
  const typeflag = TYPEFLAGS[type];
  if (typeflag === undefined) throw new Error(`archive/tar: sockets not supported: ${name}`);
  const isDevice = typeflag === '3' || typeflag === '4';
  let capability: Buffer | undefined;
  if (typeflag !== '2') capability = lgetxattr(path, 'security.capability') ?? undefined;
  return {
    name: typeflag === '5' && !name.endsWith('/') ? `${name}/` : name,
    // moby's archive keeps the file type bits in the mode (Go before 1.9 did): 0100644, not 0644.
    mode: stats.mode & (S_IFMT | 0o7777),
    uid: stats.uid,
    gid: stats.gid,
    size: typeflag === '0' ? stats.size : 0,
    typeflag,
    linkname: typeflag === '2' ? await readlink(path) : '',
    devmajor: isDevice ? major(stats.rdev) : 0,
    devminor: isDevice ? minor(stats.rdev) : 0,
    capability,
  };
}

/** The bare hex sum of one entry of `root` (its header, then its content). */
async function entrySum(root: string, rel: string, stats: Stats): Promise<string> {
  const path = join(root, rel);
  const hash = headerHash(await headerOf(path, rel, stats));
  if (stats.isFile() && stats.size > 0) {
    // 1 MiB reads: hashing a large COPY source is on the path of every fully cached build.
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** `file:<hex>` of a file made of text (a COPY heredoc): root-owned, 0644, at `name`. */
export function contentHash(name: string, data: string): string {
  const body = Buffer.from(data);
  const header: HashedHeader = { name, mode: 0o100644, uid: 0, gid: 0, size: body.length, typeflag: '0', linkname: '', devmajor: 0, devminor: 0 };
  return `file:${headerHash(header).update(body).digest('hex')}`;
}

/** Docker's hashStringSlice: `prefix:` and the sha256 of the list joined with commas. */
export const hashList = (prefix: string, list: readonly string[]) => `${prefix}:${createHash('sha256').update(list.join(',')).digest('hex')}`;

/**
 * The hash of `rel` (relative to `root`, already resolved inside it): `file:…` for anything
 * but a directory, `dir:…` over the directory's whole tree.
 */
export async function pathHash(root: string, rel: string): Promise<string> {
  const stats = await lstat(join(root, rel));
  if (!stats.isDirectory()) return `file:${await entrySum(root, rel, stats)}`;
  const sums: string[] = [];
  // The context's top ('.') is walked but, as in Docker, not hashed itself.
  const walk = async (dir: string, dirStats: Stats): Promise<void> => {
    if (dir !== '.') sums.push(await entrySum(root, dir, dirStats));
    const names = (await readdir(join(root, dir))).sort();
    for (const name of names) {
      const child = dir === '.' ? name : `${dir}/${name}`;
      const childStats = await lstat(join(root, child));
      if (childStats.isDirectory()) await walk(child, childStats);
      else sums.push(await entrySum(root, child, childStats));
    }
  };
  await walk(rel, stats);
  return hashList('dir', sums.sort());
}

/** One hash for a step's sources: the hash itself for one, `multi:` over several in order. */
export const sourcesHash = (hashes: readonly string[]) => (hashes.length === 1 ? hashes[0]! : hashList('multi', hashes));
