/**
 * The layer of a COPY/ADD step: a tar whose entries are the resolved sources placed at the
 * destination, as moby's copier lays them out (a file to `dest`, or into it when `dest` ends
 * with '/'; a directory's contents into `dest`), with the parents of `dest` made root-owned
 * 0755 as Docker's MkdirAll does. Symbolic links inside a copied directory are copied as links,
 * never followed (the sources themselves were resolved inside the root by copy-sources.ts).
 * `--chown` sets every entry's owner, `--chmod` every entry's permission bits.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack, type Headers, type Pack } from 'tar-stream';
import { invalidParameter } from '../../common/errors.js';
import type { CopySource } from './copy-sources.js';

export interface CopyOptions {
  /** `--chown`: numeric `uid[:gid]` (or root). */
  chown: string;
  /** `--chmod`: octal permission bits. */
  chmod: string;
}

interface Owner {
  uid: number;
  gid: number;
}

/** `--chown` values berthd resolves without the image's passwd and group files. */
function parseChown(chown: string): Owner | undefined {
  if (chown === '') return undefined;
  const [user = '', group = user] = chown.split(':');
  const id = (name: string, what: string): number => {
    if (name === 'root') return 0;
    if (/^\d+$/.test(name)) return Number(name);
    throw invalidParameter(`unable to convert uid/gid chown string to host mapping: the ${what} name ${JSON.stringify(name)} needs the image's ${what === 'user' ? 'passwd' : 'group'} file, which berthd does not read yet: use a numeric id`);
  };
  return { uid: id(user, 'user'), gid: id(group, 'group') };
}

function parseChmod(chmod: string): number | undefined {
  if (chmod === '') return undefined;
  if (!/^[0-7]{1,4}$/.test(chmod)) throw invalidParameter(`invalid chmod parameter: ${chmod}`);
  return parseInt(chmod, 8);
}

/** The tar of the step's layer, streamed; an error while reading a source destroys the stream. */
export function copyLayerTar(root: string, sources: readonly CopySource[], dest: string, options: CopyOptions): Readable {
  const owner = parseChown(options.chown);
  const mode = parseChmod(options.chmod);
  const archive = pack();
  const writer = new EntryWriter(archive, owner, mode);
  void (async () => {
    const intoDir = dest.endsWith('/') || sources.length > 1;
    const destDir = intoDir ? dest.replace(/\/+$/, '') || '/' : posix.dirname(dest);
    await writer.parents(destDir);
    for (const source of sources) {
      const path = join(root, source.path);
      const stats = await lstat(path);
      if (stats.isDirectory()) {
        // A directory's contents go into the destination, which is made like its parents.
        if (!intoDir) await writer.parents(dest);
        await writer.tree(path, intoDir ? destDir : dest);
      } else {
        await writer.add(intoDir ? posix.join(destDir, posix.basename(source.path)) : dest, path);
      }
    }
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

  private write(header: Headers): Promise<void> {
    return new Promise((resolve, reject) => this.archive.entry(header, (err) => (err ? reject(err) : resolve())));
  }
}
