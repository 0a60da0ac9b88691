import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fsyncDir } from '../common/atomic-file.js';
import { errnoCode, invalidParameter, notFound } from '../common/errors.js';
import { digestHex, isDigest, type Digest } from './digest.js';

const WRITE_BATCH = 1024 * 1024;
/** A blob being written is flushed to disk every this many bytes, while the rest comes in. */
const WRITEBACK_BYTES = 16 * 1024 * 1024;

/**
 * Blobs an operation in progress holds, so that garbage collection keeps them until the
 * operation has recorded its references (an import between storing its layer blob and writing
 * its image) or is done with them (a save streaming them out). Release it in a `finally`.
 */
export interface Lease {
  /** Keeps `digest` from garbage collection until the lease is released. */
  hold(digest: Digest): void;
  release(): void;
}

/**
 * Hears of a blob being stored as its file is written, for a reader that follows the file as it
 * grows (an extractor unpacking a load's layer as it arrives, see UnpackAhead).
 */
export interface IngestWatcher {
  /**
   * The first bytes are in the new file `path` (`head`: the first chunk of them). A promise it
   * returns resolves with the sha256 and size of all the bytes as that reader computed them, so
   * that they are not hashed here too; or with undefined (the reader failed): the file is hashed
   * anew then, as it is when the size differs. Returning undefined has them hashed here as usual.
   */
  started(path: string, head: Buffer): Promise<{ digest: Digest; size: number } | undefined> | undefined;
  /** More bytes are in the file. */
  wrote(): void;
  /** Every byte is in the file; or, with `failure`, none will follow (may come after a first call: ignore it). */
  ended(failure?: unknown): void;
}

/**
 * Blobs (layer tars, image configs, manifests) by sha256 digest, at ROOT/blobs/sha256/<hex>.
 * A blob becomes visible only complete and verified: it is written to ROOT/ingest/, fsynced,
 * checked against the expected size and digest, renamed into place and its folder fsynced, as
 * containerd's content store does. Writing the same blob twice at once is harmless: both
 * renames put identical bytes in place.
 *
 * Garbage collection (`collectGarbage`) removes every blob that neither its caller's references
 * (the images) nor a live lease name. It runs exclusive of the rename that makes an ingested
 * blob visible, and an ingest given a lease holds its digest before that rename, so a blob is
 * never removed between being stored and being referenced.
 */
export class ContentStore {
  private readonly leases = new Set<Set<Digest>>();
  // Serialises collection with the renames that publish blobs.
  private exclusive: Promise<unknown> = Promise.resolve();

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

  lease(): Lease {
    const held = new Set<Digest>();
    this.leases.add(held);
    return {
      hold: (digest) => {
        digestHex(digest);
        held.add(digest);
      },
      release: () => {
        this.leases.delete(held);
      },
    };
  }

  /**
   * Stores the stream's bytes as a blob; with a `lease`, the blob is held from the moment it exists.
   * `watcher` hears of the file as it is written (see IngestWatcher).
   */
  async ingest(
    stream: Readable,
    expected: { digest?: string; size?: number } = {},
    lease?: Lease,
    watcher?: IngestWatcher,
  ): Promise<{ digest: Digest; size: number }> {
    if (expected.digest !== undefined) digestHex(expected.digest);
    const temp = this.ingestPath();
    let hash: Hash | undefined = createHash('sha256');
    let hashed: Promise<{ digest: Digest; size: number } | undefined> | undefined;
    let head: Buffer | undefined;
    const written = () => {
      if (!watcher) return;
      if (hashed !== undefined || head === undefined) return watcher.wrote();
      hashed = watcher.started(temp, head);
      // The first batch was hashed here for nothing: the watcher's reader hashes the whole file.
      if (hashed) hash = undefined;
      head = undefined;
    };
    let size = 0;
    try {
      const file = await open(temp, 'wx', 0o644);
      const writeback = new EarlyWriteback(file);
      try {
        // Written in batches of about WRITE_BATCH bytes: one trip to the thread pool each, not one per
        // 64 KiB chunk of a socket; gathered by writev, not copied into one buffer first.
        let batch: Buffer[] = [];
        let batched = 0;
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (size === 0) head = chunk;
          hash?.update(chunk);
          size += chunk.length;
          batch.push(chunk);
          batched += chunk.length;
          if (batched >= WRITE_BATCH) {
            await writeAll(file, batch);
            writeback.wrote(batched);
            written();
            batch = [];
            batched = 0;
          }
        }
        if (batched > 0) {
          await writeAll(file, batch);
          written();
        }
        watcher?.ended();
        await writeback.settled();
        // The other reader finishes its hashing meanwhile.
        await file.sync();
      } finally {
        await writeback.settled().catch(() => undefined);
        await file.close();
      }
      const digest = hashed ? await digestOf(temp, size, hashed) : (`sha256:${hash!.digest('hex')}` as const);
      if (expected.size !== undefined && size !== expected.size) {
        throw invalidParameter(`blob size mismatch: expected ${expected.size} bytes, got ${size}`);
      }
      if (expected.digest !== undefined && digest !== expected.digest) {
        throw invalidParameter(`blob digest mismatch: expected ${expected.digest}, got ${digest}`);
      }
      await this.serially(async () => {
        lease?.hold(digest);
        await rename(temp, this.blobPath(digest));
      });
      await fsyncDir(this.blobDir);
      return { digest, size };
    } catch (err) {
      watcher?.ended(err);
      await rm(temp, { force: true });
      throw err;
    }
  }

  /**
   * A new path in the store's ingest folder for a blob written by someone else (a native packer)
   * and then published with `adopt`; the writer creates the file. Whoever asked removes it when
   * the writing fails; the folder is emptied when the store opens, for a daemon killed meanwhile.
   */
  ingestPath(): string {
    return join(this.ingestDir, randomBytes(12).toString('hex'));
  }

  /**
   * Publishes a file written in full outside the store (a download resumed across restarts),
   * whose digest and size the caller computed over every byte as it wrote them: the file is
   * fsynced, checked against `size`, and renamed into place as `ingest` does. It must be on the
   * store's filesystem; it is gone afterwards (moved, or removed if the blob exists already).
   */
  async adopt(path: string, expected: { digest: Digest; size: number }, lease?: Lease): Promise<void> {
    digestHex(expected.digest);
    const file = await open(path, 'r+');
    try {
      await file.sync();
      const { size } = await file.stat();
      if (size !== expected.size) throw invalidParameter(`blob size mismatch: expected ${expected.size} bytes, got ${size}`);
    } finally {
      await file.close();
    }
    await this.serially(async () => {
      lease?.hold(expected.digest);
      await rename(path, this.blobPath(expected.digest));
    });
    await fsyncDir(this.blobDir);
  }

  /** `ingest` for a blob already in memory (configs, manifests). */
  async put(data: Buffer, expected?: { digest?: string; size?: number }, lease?: Lease): Promise<{ digest: Digest; size: number }> {
    return this.ingest(Readable.from([data], { objectMode: false }), expected, lease);
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
    const file = await this.openFile(digest);
    // 1 MiB reads: layer blobs stream out (save, push) and into unpacking in fewer, larger chunks.
    return file.createReadStream({ highWaterMark: 1024 * 1024 });
  }

  /** The blob's open file, for a reader of its own (a push sends it through reused buffers); the caller closes it. */
  async openFile(digest: string): Promise<FileHandle> {
    return this.missingAsNotFound(digest, () => open(this.blobPath(digest), 'r'));
  }

  async list(): Promise<Digest[]> {
    const names = await readdir(this.blobDir);
    return names.map((hex) => `sha256:${hex}` as const).filter(isDigest);
  }

  /**
   * Removes the blobs that `referenced` (asked afresh before each removal, so references made
   * meanwhile count) and the live leases leave out. Resolves with what it removed.
   */
  async collectGarbage(referenced: () => ReadonlySet<string>): Promise<{ removed: Digest[]; bytes: number }> {
    return this.serially(async () => {
      const removed: Digest[] = [];
      let bytes = 0;
      for (const digest of await this.list()) {
        const path = this.blobPath(digest);
        const size = (await stat(path)).size;
        // Checked right before the unlink, with no await between them.
        if (referenced().has(digest) || this.isLeased(digest)) continue;
        await rm(path);
        removed.push(digest);
        bytes += size;
      }
      if (removed.length > 0) await fsyncDir(this.blobDir);
      return { removed, bytes };
    });
  }

  private isLeased(digest: Digest): boolean {
    for (const held of this.leases) if (held.has(digest)) return true;
    return false;
  }

  private serially<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.exclusive.then(operation);
    this.exclusive = result.catch(() => undefined);
    return result;
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

/** The sha256 of the file `path` of `size` bytes: as `hashed` says if it counted as many, else read anew. */
async function digestOf(path: string, size: number, hashed: Promise<{ digest: Digest; size: number } | undefined>): Promise<Digest> {
  const other = await hashed;
  if (other && other.size === size) return other.digest;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: WRITE_BATCH }) as AsyncIterable<Buffer>) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/** Writes `buffers` in order at the file's position; writev may write less than asked. */
async function writeAll(file: FileHandle, buffers: Buffer[]): Promise<void> {
  let left = buffers;
  while (left.length > 0) {
    let { bytesWritten } = await file.writev(left);
    while (left.length > 0 && bytesWritten >= left[0]!.length) {
      bytesWritten -= left[0]!.length;
      left = left.slice(1);
    }
    if (bytesWritten > 0) left = [left[0]!.subarray(bytesWritten), ...left.slice(1)];
  }
}

/**
 * Flushes a blob being written every WRITEBACK_BYTES in the background (one fdatasync at a
 * time, not awaited by the writes), so that the disk writes while the rest of the blob arrives
 * and the fsync that makes it durable waits only for the tail: for a 100 MiB layer that fsync
 * alone took 50–80 ms at the end of every commit and load. A background flush that fails is
 * reported by settled(): the kernel reports a writeback error once per open file, so the final
 * fsync on the same descriptor could succeed after the data was lost.
 */
class EarlyWriteback {
  private unflushed = 0;
  private inFlight: Promise<void> | undefined;
  private failure: unknown;

  constructor(private readonly file: FileHandle) {}

  wrote(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < WRITEBACK_BYTES || this.inFlight) return;
    this.unflushed = 0;
    this.inFlight = this.file.datasync().then(
      () => (this.inFlight = undefined),
      (err: unknown) => {
        this.failure ??= err;
        this.inFlight = undefined;
      },
    );
  }

  /** Waits for a flush under way (the file must not be closed under it); rejects if any failed. */
  async settled(): Promise<void> {
    await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }
}
