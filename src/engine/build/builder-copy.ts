/**
 * The layer of a COPY/ADD step: a tar whose entries are the resolved sources placed at the
 * destination, as moby's copier lays them out (a file to `dest`, or into it when `dest` ends
 * with '/'; a directory's contents into `dest`), with the parents of `dest` made root-owned
 * 0755 as Docker's MkdirAll does. Symbolic links inside a copied directory are copied as links,
 * never followed (the sources themselves were resolved inside the root by copy-sources.ts).
 * `--chown` sets every entry's owner, `--chmod` every entry's permission bits. ADD unpacks a
 * local tar archive (plain, gzip, bzip2, xz or zstd) into the destination; its entries keep their owners.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Headers, type Pack } from 'tar-stream';
import { decompressArchive } from '../../archive/decompress.js';
import { invalidParameter } from '../../common/errors.js';
import type { CopySource } from './copy-sources.js';
import type { SourceContent } from './instructions.js';

export interface CopyOptions {
  /** `--chown`: numeric `uid[:gid]`. */
  chown: string;
  /** `--chmod`: octal permission bits. */
  chmod: string;
  /** ADD: a local tar archive (plain or compressed) is unpacked into the destination directory. */
  unpack?: boolean;
  /** Heredoc sources (`COPY <<EOF /dest`): files of text, root-owned 0644 unless --chown/--chmod. */
  contents?: readonly SourceContent[];
}

/**
 * Whether the file is a tar archive, plain or compressed (moby's IsArchivePath: it decompresses
 * the file and reads a tar header): its first block, decompressed, holds a header whose checksum
 * is right. Anything else, a compressed file that is not a tar among them, is copied as a file.
 */
async function isArchive(path: string): Promise<boolean> {
  const stream = decompressArchive(createReadStream(path));
  try {
    let head = Buffer.alloc(0);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      head = Buffer.concat([head, chunk]);
      if (head.length >= TAR_BLOCK) break;
    }
    return head.length >= TAR_BLOCK && hasTarChecksum(head.subarray(0, TAR_BLOCK));
  } catch {
    return false;
  } finally {
    stream.destroy();
  }
}

const TAR_BLOCK = 512;

/** A tar header's checksum: the sum of its bytes with the checksum field (148–155) counted as spaces. */
function hasTarChecksum(block: Buffer): boolean {
  const recorded = parseInt(block.toString('latin1', 148, 156).replace(/\0.*$/s, '').trim(), 8);
  if (Number.isNaN(recorded)) return false;
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === recorded;
}

/** An archive entry's name under `dir`: cleaned so that no `..` or absolute name leaves it. */
const underDir = (dir: string, name: string) => posix.join(dir, posix.normalize(`/${name}`)).replace(/^\/+/, '');

interface Owner {
  uid: number;
  gid: number;
}

/** `--chown` in ids (the builder looks names up first: builder-chown.ts). */
function parseChown(chown: string): Owner | undefined {
  if (chown === '') return undefined;
  const [uid, gid = uid] = chown.split(':').map(Number) as [number, number?];
  return { uid, gid };
}

function parseChmod(chmod: string): number | undefined {
  if (chmod === '') return undefined;
  if (!/^[0-7]{1,4}$/.test(chmod)) throw invalidParameter(`invalid chmod parameter: ${chmod}`);
  return parseInt(chmod, 8);
}

/** The tar of the step's layer, streamed; an error while reading a source destroys the stream. */
export function copyLayerTar(root: string, sources: readonly CopySource[], dest: string, options: CopyOptions): Readable {
  const contents = options.contents ?? [];
  const owner = parseChown(options.chown);
  const mode = parseChmod(options.chmod);
  const archive = pack();
  const writer = new EntryWriter(archive, owner, mode);
  void (async () => {
    const intoDir = dest.endsWith('/') || sources.length + contents.length > 1;
    const destDir = intoDir ? dest.replace(/\/+$/, '') || '/' : posix.dirname(dest);
    await writer.parents(destDir);
    for (const source of sources) {
      const path = join(source.root ?? root, source.path);
      const stats = await lstat(path);
      if (stats.isDirectory()) {
        // A directory's contents go into the destination, which is made like its parents.
        if (!intoDir) await writer.parents(dest);
        await writer.tree(path, intoDir ? destDir : dest);
      } else if (options.unpack && !source.downloaded && stats.isFile() && (await isArchive(path))) {
        // As Docker: an archive is unpacked into the destination, taken as a directory.
        const into = intoDir ? destDir : dest;
        if (!intoDir) await writer.parents(dest);
        await writer.unpack(path, into);
      } else {
        await writer.add(intoDir ? posix.join(destDir, posix.basename(source.path)) : dest, path);
      }
    }
    for (const content of contents) await writer.text(intoDir ? posix.join(destDir, content.path) : dest, content.data);
    archive.finalize();
  })().catch((err: unknown) => archive.destroy(err as Error));
  return archive;
}

class EntryWriter {
  constructor(
    private readonly archive: Pack,
    private readonly owner: Owner | undefined,
    private readonly mode: number | undefined,
  ) {}

  /** The directories above `dir` and `dir` itself (not '/'), root-owned 0755. */
  async parents(dir: string): Promise<void> {
    const parts = dir.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      await this.write({ name: `${parts.slice(0, i).join('/')}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: new Date() });
    }
  }

  async tree(dir: string, at: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const target = posix.join(at, name);
      await this.add(target, path);
      if ((await lstat(path)).isDirectory()) await this.tree(path, target);
    }
  }

  async add(at: string, path: string): Promise<void> {
    const stats = await lstat(path);
    const name = at.replace(/^\/+/, '');
    const header: Headers = {
      name: stats.isDirectory() ? `${name}/` : name,
      mode: this.mode ?? stats.mode & 0o7777,
      uid: this.owner?.uid ?? stats.uid,
      gid: this.owner?.gid ?? stats.gid,
      mtime: stats.mtime,
    };
    if (stats.isDirectory()) return this.write({ ...header, type: 'directory' });
    if (stats.isSymbolicLink()) return this.write({ ...header, type: 'symlink', linkname: await readlink(path) });
    if (!stats.isFile()) return; // devices, fifos and sockets of a context are not copied
    const entry = this.archive.entry({ ...header, type: 'file', size: stats.size });
    await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), entry);
  }

  async text(at: string, data: string): Promise<void> {
    const body = Buffer.from(data);
    const header: Headers = { name: at.replace(/^\/+/, ''), type: 'file', size: body.length, mode: this.mode ?? 0o644, uid: this.owner?.uid ?? 0, gid: this.owner?.gid ?? 0, mtime: new Date() };
    await new Promise<void>((resolve, reject) => this.archive.entry(header, body, (err) => (err ? reject(err) : resolve())));
  }

  /** The entries of the archive at `path`, under `dir`, with their own owners and modes. */
  async unpack(path: string, dir: string): Promise<void> {
    const entries = extract();
    const reading = pipeline(decompressArchive(createReadStream(path)), entries);
    for await (const entry of entries) {
      const header: Headers = { ...entry.header, name: underDir(dir, entry.header.name) };
      if (header.type === 'link' && header.linkname) header.linkname = underDir(dir, header.linkname);
      if (header.type === 'file' || header.type === 'contiguous-file') {
        await pipeline(entry, this.archive.entry({ ...header, type: 'file' }));
      } else {
        entry.resume();
        if (header.type === 'directory' || header.type === 'symlink' || header.type === 'link') await this.write(header);
      }
    }
    await reading;
  }

  private write(header: Headers): Promise<void> {
    return new Promise((resolve, reject) => this.archive.entry(header, (err) => (err ? reject(err) : resolve())));
  }
}
