import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fsyncDir } from '../common/atomic-file.js';
import { errnoCode, invalidParameter, notFound } from '../common/errors.js';
import { digestHex, isDigest, type Digest } from './digest.js';

/**
 * Blobs (layer tars, image configs, manifests) by sha256 digest, at ROOT/blobs/sha256/<hex>.
 * A blob becomes visible only complete and verified: it is written to ROOT/ingest/, fsynced,
 * checked against the expected size and digest, renamed into place and its folder fsynced, as
 * containerd's content store does. Writing the same blob twice at once is harmless: both
 * renames put identical bytes in place.
 */
export class ContentStore {
  private constructor(
    private readonly blobDir: string,
    private readonly ingestDir: string,
  ) {}

  static async open(root: string): Promise<ContentStore> {
    const blobDir = join(root, 'blobs', 'sha256');
    const ingestDir = join(root, 'ingest');
    await mkdir(blobDir, { recursive: true });
    // Whatever is in ingest/ was being written when the daemon stopped.
    await rm(ingestDir, { recursive: true, force: true });
    await mkdir(ingestDir);
    return new ContentStore(blobDir, ingestDir);
  }

  async ingest(stream: Readable, expected: { digest?: string; size?: number } = {}): Promise<{ digest: Digest; size: number }> {
    if (expected.digest !== undefined) digestHex(expected.digest);
    const temp = join(this.ingestDir, randomBytes(12).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    try {
      const file = await open(temp, 'wx', 0o644);
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          size += chunk.length;
          await file.write(chunk);
        }
        await file.sync();
      } finally {
        await file.close();
      }
      const digest: Digest = `sha256:${hash.digest('hex')}`;
      if (expected.size !== undefined && size !== expected.size) {
        throw invalidParameter(`blob size mismatch: expected ${expected.size} bytes, got ${size}`);
      }
      if (expected.digest !== undefined && digest !== expected.digest) {
        throw invalidParameter(`blob digest mismatch: expected ${expected.digest}, got ${digest}`);
      }
      await rename(temp, this.blobPath(digest));
      await fsyncDir(this.blobDir);
      return { digest, size };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /** `ingest` for a blob already in memory (configs, manifests). */
  async put(data: Buffer, expected?: { digest?: string; size?: number }): Promise<{ digest: Digest; size: number }> {
    return this.ingest(Readable.from([data], { objectMode: false }), expected);
  }

  async has(digest: string): Promise<boolean> {
    try {
      await stat(this.blobPath(digest));
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw err;
    }
  }

  async size(digest: string): Promise<number> {
    return (await this.missingAsNotFound(digest, () => stat(this.blobPath(digest)))).size;
  }

  /** The whole blob in memory: for small ones such as image configs. */
  async read(digest: string): Promise<Buffer> {
    return this.missingAsNotFound(digest, () => readFile(this.blobPath(digest)));
  }

  async open(digest: string): Promise<Readable> {
    const file = await this.missingAsNotFound(digest, () => open(this.blobPath(digest), 'r'));
    return file.createReadStream();
  }

  async delete(digest: string): Promise<void> {
    await this.missingAsNotFound(digest, () => rm(this.blobPath(digest)));
  }

  async list(): Promise<Digest[]> {
    const names = await readdir(this.blobDir);
    return names.map((hex) => `sha256:${hex}` as const).filter(isDigest);
  }

  private blobPath(digest: string): string {
    return join(this.blobDir, digestHex(digest));
  }

  private async missingAsNotFound<T>(digest: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound(`blob ${digest} not found`, err);
      throw err;
    }
  }
}
