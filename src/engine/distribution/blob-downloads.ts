/**
 * Layer blob downloads into the content store: streamed to a file beside it, hashed as they
 * arrive, checked for size and digest before they are published, bounded in number
 * (max-concurrent-downloads), shared by every pull that wants the same blob at once, and resumed
 * with a Range request when an earlier attempt was cut short (client gone, berthd killed).
 *
 * A download whose every waiter has gone is cancelled and keeps its partial file for the next
 * attempt; a download that failed for any other reason (digest mismatch, a stalled registry, a
 * 500) removes it, so nothing half-made stays behind.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileHandle } from 'node:fs/promises';
import { errnoCode, invalidParameter, wrap } from '../../common/errors.js';
import type { ContentStore, Lease } from '../../storage/content-store.js';
import { digestHex, type Digest } from '../../storage/digest.js';
import { Semaphore } from '../../storage/semaphore.js';

/** Opens the blob at `offset` (the source answers where it really starts: 0 if it ignores ranges). */
export type BlobSource = (offset: number, signal: AbortSignal) => Promise<{ stream: Readable; offset: number }>;

export interface DownloadListener {
  /** The download waits for a free place. */
  waiting(): void;
  /** Bytes so far of `total`. */
  progress(current: number, total: number): void;
}

interface Download {
  done: Promise<void>;
  /** Settles once every byte is written and checked against the digest (before it is published). */
  verified: Promise<void>;
  /** No more bytes will be written: the download is verified, or failed. */
  ended: boolean;
  listeners: Set<DownloadListener>;
  /** Readers following the file (`follow`), woken by each write and by the end. */
  growth: Set<() => void>;
  /**
   * The bytes of the last write to the file, from offset `start`: a reader woken by that write
   * takes them from here rather than read them back from the file (no read, no new buffer).
   */
  lastWrite?: { start: number; chunks: Buffer[] };
  waiters: number;
  abort: AbortController;
}

/** Bytes received while a write to the download file is under way, written together in one writev. */
const WRITE_BATCH_BYTES = 4 * 1024 * 1024;
/** What a reader following a download asks the file for at a time. */
const FOLLOW_READ_BYTES = 1024 * 1024;

/** Partial files of downloads cut short more than this long ago are stale: removed at start. */
const STALE_PARTIAL_MS = 24 * 60 * 60 * 1000;

export class BlobDownloads {
  private readonly active = new Map<Digest, Download>();
  private readonly slots: Semaphore;

  private constructor(
    private readonly dir: string,
    private readonly content: ContentStore,
    maxConcurrent: number,
  ) {
    this.slots = new Semaphore(maxConcurrent);
  }

  static async open(dir: string, content: ContentStore, maxConcurrent: number): Promise<BlobDownloads> {
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (!name.endsWith('.partial') || !info || Date.now() - info.mtimeMs > STALE_PARTIAL_MS) await rm(join(dir, name), { force: true });
    }
    return new BlobDownloads(dir, content, maxConcurrent);
  }

  /**
   * Resolves once the blob is in the content store, held by `lease`. Joins a download of the same
   * blob already under way; `signal` withdraws this caller (the download stops when nobody waits).
   */
  async fetch(digest: Digest, size: number, source: BlobSource, listener: DownloadListener, lease: Lease, signal: AbortSignal): Promise<void> {
    digestHex(digest);
    signal.throwIfAborted();
    const joined = this.active.get(digest) ?? this.start(digest, size, source, lease);
    joined.waiters++;
    joined.listeners.add(listener);
    const withdraw = () => {
      joined.listeners.delete(listener);
      if (--joined.waiters === 0) joined.abort.abort(signal.reason);
    };
    signal.addEventListener('abort', withdraw, { once: true });
    try {
      await Promise.race([
        joined.done,
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
      ]);
      lease.hold(digest);
    } finally {
      if (!signal.aborted) {
        signal.removeEventListener('abort', withdraw);
        joined.listeners.delete(listener);
        joined.waiters--;
      }
    }
  }

  private start(digest: Digest, size: number, source: BlobSource, lease: Lease): Download {
    let verify!: { resolve: () => void; reject: (err: unknown) => void };
    const verified = new Promise<void>((resolve, reject) => (verify = { resolve, reject }));
    verified.catch(() => undefined);
    const download: Download = { done: Promise.resolve(), verified, ended: false, listeners: new Set(), growth: new Set(), waiters: 0, abort: new AbortController() };
    const ended = (err?: unknown) => {
      if (download.ended) return;
      download.ended = true;
      if (err === undefined) verify.resolve();
      else verify.reject(err);
      // Readers following the file learn that no more bytes will come.
      this.wake(download);
    };
    download.done = this.run(digest, size, source, download, lease, () => ended())
      .then(() => ended(), (err: unknown) => {
        ended(err);
        throw err;
      })
      .finally(() => this.active.delete(digest));
    download.done.catch(() => undefined);
    this.active.set(digest, download);
    return download;
  }

  private partialPath(digest: Digest): string {
    return join(this.dir, `${digestHex(digest)}.partial`);
  }

  /** `verified`: called once the file holds every byte and they match the digest, before it is published. */
  private async run(digest: Digest, size: number, source: BlobSource, download: Download, lease: Lease, verified: () => void): Promise<void> {
    const { listeners, abort: { signal } } = download;
    // A blob stored already (an earlier pull cut short after it) is not fetched again; a partial
    // file of an older attempt is of no use then, and a reader must not take it for the blob.
    if (await this.content.has(digest)) {
      lease.hold(digest);
      return rm(this.partialPath(digest), { force: true });
    }
    const waitTimer = setImmediate(() => listeners.forEach((l) => l.waiting()));
    const release = await this.slots.acquire(signal).finally(() => clearImmediate(waitTimer));
    const path = this.partialPath(digest);
    try {
      const hash = createHash('sha256');
      const have = await this.resumePoint(path, size, hash);
      const { stream, offset } = await source(have, signal);
      const restart = offset !== have;
      // Started over in a new file: a reader holding the old one sees it end unverified, never a
      // mix of the two.
      if (restart) await rm(path, { force: true });
      const file = await open(path, offset === have && have > 0 ? 'a' : 'w');
      let written = offset === have ? have : 0;
      try {
        const restarted = restart ? createHash('sha256') : hash;
        written = await this.copy(download, stream, file, restarted, written, size, signal);
        await file.close().catch(() => undefined);
        if (written !== size) throw invalidParameter(`downloading blob ${digest}: expected ${size} bytes, got ${written}`);
        const actual = `sha256:${restarted.digest('hex')}`;
        if (actual !== digest) throw invalidParameter(`filesystem layer verification failed for digest ${digest}: got ${actual}`);
      } finally {
        await file.close().catch(() => undefined);
      }
      verified();
      await this.content.adopt(path, { digest, size }, lease);
    } catch (err) {
      // A download only withdrawn from is resumed later; any other failure leaves nothing.
      if (!signal.aborted) await rm(path, { force: true });
      throw signal.aborted ? (signal.reason ?? err) : wrap(err, `downloading ${digest}`);
    } finally {
      release();
    }
  }

  /** Bytes of a partial file kept from an earlier attempt, hashed into `hash`; 0 when there is none usable. */
  private async resumePoint(path: string, size: number, hash: Hash): Promise<number> {
    let have: number;
    try {
      have = (await stat(path)).size;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 0;
      throw err;
    }
    if (have === 0 || have >= size) {
      await rm(path, { force: true });
      return 0;
    }
    for await (const chunk of createReadStream(path, { end: have - 1 }) as AsyncIterable<Buffer>) hash.update(chunk);
    return have;
  }

  private wake(download: Download): void {
    const woken = [...download.growth];
    download.growth.clear();
    for (const wake of woken) wake();
  }

  /**
   * The blob's bytes while its download is still writing them, so unpacking overlaps the
   * download: read from the download's file as it grows, or from the content store once it is
   * there. Call it once the download has written its first bytes (or is done). The stream ends
   * only once the download has checked every byte against the digest (and fails if that check
   * does), so what it gave is the blob: a caller may take the digest as the bytes' sha256.
   */
  follow(digest: Digest, size: number, signal: AbortSignal): Readable {
    return Readable.from(this.followChunks(digest, size, signal), { objectMode: false });
  }

  private async *followChunks(digest: Digest, size: number, signal: AbortSignal): AsyncGenerator<Buffer> {
    // The download is taken before the file is opened: a file found then is this download's.
    const download = this.active.get(digest);
    let handle: FileHandle | undefined;
    if (download) {
      try {
        handle = await open(this.partialPath(digest), 'r');
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
    }
    if (!download || !handle) {
      // Done already: the file has moved into the content store, verified.
      yield* (await this.content.open(digest)) as AsyncIterable<Buffer>;
      return;
    }
    try {
      // An open descriptor keeps reading the same file after it is renamed into the store.
      let position = 0;
      while (position < size) {
        signal.throwIfAborted();
        const kept = download.lastWrite && chunksFrom(download.lastWrite, position);
        if (kept) {
          for (const chunk of kept) {
            position += chunk.length;
            yield chunk;
          }
          continue;
        }
        // A buffer per read, handed on as it is: no copy of the bytes.
        const buffer = Buffer.allocUnsafe(Math.min(FOLLOW_READ_BYTES, size - position));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead > 0) {
          position += bytesRead;
          yield buffer.subarray(0, bytesRead);
          continue;
        }
        if (download.ended) {
          // Verified with bytes still unread cannot be; a failure says why the bytes stopped.
          await download.verified;
          throw invalidParameter(`downloading ${digest}: the download ended after ${position} of ${size} bytes`);
        }
        await new Promise<void>((resolve) => download.growth.add(resolve));
      }
      await download.verified;
    } finally {
      await handle.close();
    }
  }

  /**
   * Writes the response to the file, hashing it, in writes of whatever arrived while the last one
   * was under way (one writev each, rather than one write per socket read); resolves with the
   * bytes the file holds.
   */
  private async copy(download: Download, stream: Readable, file: FileHandle, hash: Hash, start: number, size: number, signal: AbortSignal): Promise<number> {
    let written = start;
    let received = start;
    let reported = 0;
    const report = () => download.listeners.forEach((l) => l.progress(written, size));
    const sink = new Writable({
      highWaterMark: WRITE_BATCH_BYTES,
      writev: (chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void) => {
        const buffers = chunks.map(({ chunk }) => chunk);
        const bytes = buffers.reduce((total, chunk) => total + chunk.length, 0);
        if (received + bytes > size) return callback(invalidParameter(`the registry sent more than the ${size} bytes the manifest gives`));
        received += bytes;
        for (const chunk of buffers) hash.update(chunk);
        file.writev(buffers).then(({ bytesWritten }) => {
          if (bytesWritten !== bytes) return callback(new Error(`short write to the download file: ${bytesWritten} of ${bytes} bytes`));
          download.lastWrite = { start: written, chunks: buffers };
          written += bytesWritten;
          this.wake(download);
          const now = performance.now();
          if (now - reported >= 100) {
            reported = now;
            report();
          }
          callback();
        }, callback);
      },
    });
    const onAbort = () => stream.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await pipeline(stream, sink);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    report();
    return written;
  }
}

/** The chunks of `write` from file offset `position` on (the first one cut), or undefined if it does not hold that offset. */
function chunksFrom(write: { start: number; chunks: Buffer[] }, position: number): Buffer[] | undefined {
  let offset = write.start;
  for (const [i, chunk] of write.chunks.entries()) {
    if (position >= offset && position < offset + chunk.length) return [chunk.subarray(position - offset), ...write.chunks.slice(i + 1)];
    offset += chunk.length;
  }
  return undefined;
}
