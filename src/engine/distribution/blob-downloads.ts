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
import { Readable } from 'node:stream';
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
  listeners: Set<DownloadListener>;
  /** Readers following the file (`follow`), woken by each write. */
  growth: Set<() => void>;
  waiters: number;
  abort: AbortController;
}

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
    let download = this.active.get(digest);
    if (!download) {
      const abort = new AbortController();
      const listeners = new Set<DownloadListener>();
      const done = this.run(digest, size, source, listeners, lease, abort.signal).finally(() => {
        // Readers following the file learn that no more bytes will come.
        this.wake(digest);
        this.active.delete(digest);
      });
      done.catch(() => undefined);
      download = { done, listeners, growth: new Set(), waiters: 0, abort };
      this.active.set(digest, download);
    }
    const joined = download;
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

  private partialPath(digest: Digest): string {
    return join(this.dir, `${digestHex(digest)}.partial`);
  }

  private async run(digest: Digest, size: number, source: BlobSource, listeners: Set<DownloadListener>, lease: Lease, signal: AbortSignal): Promise<void> {
    // A blob stored already (an earlier pull cut short after it) is not fetched again.
    if (await this.content.has(digest)) return lease.hold(digest);
    const waitTimer = setImmediate(() => listeners.forEach((l) => l.waiting()));
    const release = await this.slots.acquire(signal).finally(() => clearImmediate(waitTimer));
    const path = this.partialPath(digest);
    try {
      const hash = createHash('sha256');
      const have = await this.resumePoint(path, size, hash);
      const { stream, offset } = await source(have, signal);
      const file = await open(path, offset === have && have > 0 ? 'a' : 'w');
      let written = offset === have ? have : 0;
      const restart = offset !== have;
      try {
        const restarted = restart ? createHash('sha256') : hash;
        written = await this.copy(digest, stream, file, restarted, written, size, listeners, signal);
        await file.close().catch(() => undefined);
        if (written !== size) throw invalidParameter(`downloading blob ${digest}: expected ${size} bytes, got ${written}`);
        const actual = `sha256:${restarted.digest('hex')}`;
        if (actual !== digest) throw invalidParameter(`filesystem layer verification failed for digest ${digest}: got ${actual}`);
      } finally {
        await file.close().catch(() => undefined);
      }
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

  private wake(digest: Digest): void {
    const growth = this.active.get(digest)?.growth;
    if (!growth) return;
    const woken = [...growth];
    growth.clear();
    for (const wake of woken) wake();
  }

  /**
   * The blob's bytes while its download is still writing them, so unpacking overlaps the
   * download: read from the download's file as it grows, or from the content store once it is
   * there. Call it once the download has written its first bytes (or is done). The bytes are not
   * verified yet: the caller must also await the download, and the layer's diff ID (pinned by the
   * verified config) is checked after unpacking.
   */
  follow(digest: Digest, size: number, signal: AbortSignal): Readable {
    return Readable.from(this.followChunks(digest, size, signal), { objectMode: false });
  }

  private async *followChunks(digest: Digest, size: number, signal: AbortSignal): AsyncGenerator<Buffer> {
    let handle: FileHandle;
    try {
      handle = await open(this.partialPath(digest), 'r');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      // Done already: the file has moved into the content store.
      yield* (await this.content.open(digest)) as AsyncIterable<Buffer>;
      return;
    }
    try {
      // An open descriptor keeps reading the same file after it is renamed into the store.
      const buffer = Buffer.alloc(1 << 20);
      let position = 0;
      while (position < size) {
        signal.throwIfAborted();
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
        if (bytesRead > 0) {
          position += bytesRead;
          yield Buffer.from(buffer.subarray(0, bytesRead));
          continue;
        }
        const download = this.active.get(digest);
        if (!download) throw invalidParameter(`downloading ${digest}: the download ended after ${position} of ${size} bytes`);
        await new Promise<void>((resolve) => download.growth.add(resolve));
      }
    } finally {
      await handle.close();
    }
  }

  private async copy(
    digest: Digest,
    stream: Readable,
    file: FileHandle,
    hash: Hash,
    start: number,
    size: number,
    listeners: Set<DownloadListener>,
    signal: AbortSignal,
  ): Promise<number> {
    let written = start;
    let reported = 0;
    const onAbort = () => stream.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (written + chunk.length > size) throw invalidParameter(`the registry sent more than the ${size} bytes the manifest gives`);
        hash.update(chunk);
        await file.write(chunk);
        written += chunk.length;
        this.wake(digest);
        const now = performance.now();
        if (now - reported >= 100) {
          reported = now;
          listeners.forEach((l) => l.progress(written, size));
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    listeners.forEach((l) => l.progress(written, size));
    return written;
  }
}
