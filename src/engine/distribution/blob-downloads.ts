/**
 * Layer blob downloads into the content store: streamed to a file beside it, hashed as they
 * arrive, checked for size and digest before they are published, bounded in number
 * (max-concurrent-downloads), shared by every pull that wants the same blob at once, and resumed
 * with a Range request when an earlier attempt was cut short (client gone, berthd killed).
 *
 * The file is written by berthd itself, or by a writer its first caller gives (BlobWriter: the
 * native extractor, which unpacks the same bytes as it writes and hashes them). The writer gets the
 * registry's connection itself when the response allows (see response-hand-off.ts), so no byte goes
 * through berthd; otherwise berthd moves them from the socket to its pipe.
 *
 * A download whose every waiter has gone is cancelled and keeps its partial file for the next
 * attempt; a download that failed for any other reason (digest mismatch, a stalled registry, a
 * 500) removes it, so nothing half-made stays behind.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline as pipelineCallback, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileHandle } from 'node:fs/promises';
import { errnoCode, invalidParameter, wrap } from '../../common/errors.js';
import type { ContentStore, Lease } from '../../storage/content-store.js';
import { digestHex, type Digest } from '../../storage/digest.js';
import { Semaphore } from '../../storage/semaphore.js';
import { compressionOf, peekStream } from '../../archive/decompress.js';
import type { BlobConnection } from '../../archive/extract.js';
import type { BodyHandOff, TakenBody } from './response-hand-off.js';

/**
 * Opens the blob at `offset` (the source answers where it really starts: 0 if it ignores ranges),
 * with the hand-off of its connection when it has one (see response-hand-off.ts).
 */
export type BlobSource = (offset: number, signal: AbortSignal) => Promise<{ stream: Readable; offset: number; handOff?: BodyHandOff }>;

/** What a writer of the blob's file computed over every byte the file holds. */
export interface WrittenBlob {
  digest: Digest;
  size: number;
}

/**
 * Writes a download's bytes to its partial file in berthd's place, hashing every byte the file
 * holds: `body` is the response from `offset` on (the bytes before it are in the file already,
 * from an earlier attempt), appended to the file at `path`. The writer calls `check` once the file
 * holds them all; `check` throws when they are not the blob's, and then the writer must fail. The
 * promise it returns settles when it is done (rejecting before `check` fails the download).
 * Returns undefined to decline: berthd writes the file itself then.
 *
 * With `connection`, the writer reads the rest of the blob from the registry's connection itself
 * (the file holds its first bytes already); `body` then carries no bytes: it is destroyed when the
 * download is given up, and the writer destroys it once it is done with the connection.
 */
export type BlobWriter = (
  body: Readable,
  file: { path: string; offset: number; check(blob: WrittenBlob): void; connection?: BlobConnection },
) => Promise<unknown> | undefined;

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
  async fetch(digest: Digest, size: number, source: BlobSource, listener: DownloadListener, lease: Lease, signal: AbortSignal, writer?: BlobWriter): Promise<void> {
    digestHex(digest);
    signal.throwIfAborted();
    const joined = this.active.get(digest) ?? this.start(digest, size, source, lease, writer);
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

  private start(digest: Digest, size: number, source: BlobSource, lease: Lease, writer: BlobWriter | undefined): Download {
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
    download.done = this.run(digest, size, source, writer, download, lease, () => ended())
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
  private async run(digest: Digest, size: number, source: BlobSource, writer: BlobWriter | undefined, download: Download, lease: Lease, verified: () => void): Promise<void> {
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
      const have = await this.resumePoint(path, size);
      // The kept bytes are hashed before the request: hashed after it, a long prefix would leave
      // the response unread for longer than the registry's stall timeout allows.
      const resumed = createHash('sha256');
      if (have > 0) await this.hashFile(path, have, resumed);
      const { stream: response, offset, handOff } = await source(have, signal);
      const restart = offset !== have;
      // Started over in a new file: a reader holding the old one sees it end unverified, never a
      // mix of the two.
      if (restart) await rm(path, { force: true });
      const start = restart ? 0 : have;
      if (handOff && (await this.handOverConnection(download, response, handOff, start === 0 ? writer : undefined, { digest, size, path }, signal))) {
        verified();
        await this.content.adopt(path, { digest, size }, lease);
        return;
      }
      // A resumed download is written here: the extractor would unpack the kept bytes before it
      // read the response, and the response would stall meanwhile. So is a zstd blob, whatever
      // its media type says: the extractor reads gzip and plain tars only.
      const { head, whole: stream } = start === 0 && writer ? await peekStream(response, 4) : { head: undefined, whole: response };
      // The file exists from here on, whoever writes it: a reader following the download opens it.
      const file = await open(path, start > 0 ? 'a' : 'w');
      const handedOver = head !== undefined && compressionOf(head) !== 'zstd' && writer && this.handOver(download, stream, writer, { digest, size, path, offset: start }, signal);
      if (handedOver) {
        await file.close();
        await handedOver;
      } else {
        try {
          const hash = start > 0 ? resumed : createHash('sha256');
          const written = await this.copy(download, stream, file, hash, start, size, signal);
          await file.close().catch(() => undefined);
          checkBlob(digest, size, { digest: `sha256:${hash.digest('hex')}`, size: written });
        } finally {
          await file.close().catch(() => undefined);
        }
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

  /**
   * Gives the writer the registry's connection of a whole response (see BlobWriter), the body bytes
   * berthd read already put in the file first; resolves true once the writer has checked the
   * file's bytes against the blob, false when there is no writer or it declines (the response is
   * berthd's again then). A zstd blob is not handed over: the extractor reads gzip and plain tars.
   */
  private async handOverConnection(
    download: Download,
    response: Readable,
    handOff: BodyHandOff,
    writer: BlobWriter | undefined,
    file: { digest: Digest; size: number; path: string },
    signal: AbortSignal,
  ): Promise<boolean> {
    const taken = writer ? handOff.take() : undefined;
    let writing: Promise<unknown> | undefined;
    let checked!: () => void;
    const check = new Promise<void>((resolve) => (checked = resolve));
    let progressing = true;
    // The writer appends to the file: its size is the download's progress, and wakes its readers.
    const poll = setInterval(() => {
      stat(file.path).then(
        ({ size: written }) => {
          if (!progressing) return;
          this.wake(download);
          download.listeners.forEach((l) => l.progress(written, file.size));
        },
        () => undefined,
      );
    }, 100);
    try {
      if (taken && usableHead(taken, file.size)) {
        await writeFile(file.path, taken.head);
        writing = writer!(response, {
          path: file.path,
          offset: 0,
          check: (blob) => {
            checkBlob(file.digest, file.size, blob);
            checked();
          },
          connection: { fd: taken.fd, size: file.size, stallTimeoutMs: taken.stallTimeoutMs, signal },
        });
      }
      if (!writing) {
        handOff.giveBack(taken);
        return false;
      }
      download.listeners.forEach((l) => l.progress(taken!.head.length, file.size));
      // It may fail after the check (the layer's own registration): not the download's concern.
      writing.catch(() => undefined);
      await Promise.race([
        check,
        writing.then(() => {
          throw new Error(`writing blob ${file.digest}: the writer ended without checking it`);
        }),
      ]);
    } catch (err) {
      // Taken and not given back: the connection is of no more use.
      response.destroy();
      throw err;
    } finally {
      progressing = false;
      clearInterval(poll);
    }
    // The writer is done with the connection (it checks the blob once the extractor has ended):
    // berthd's copy of it goes.
    response.destroy();
    download.listeners.forEach((l) => l.progress(file.size, file.size));
    return true;
  }

  /** Bytes of a partial file kept from an earlier attempt; 0 when there is none usable. */
  private async resumePoint(path: string, size: number): Promise<number> {
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
    return have;
  }

  private async hashFile(path: string, bytes: number, hash: Hash): Promise<void> {
    for await (const chunk of createReadStream(path, { end: bytes - 1 }) as AsyncIterable<Buffer>) hash.update(chunk);
  }

  /**
   * Gives the response to the caller's writer (see BlobWriter), counted on the way; resolves once
   * the writer has checked the file's bytes against the blob. Undefined when the writer declines.
   */
  private handOver(download: Download, stream: Readable, writer: BlobWriter, file: { digest: Digest; size: number; path: string; offset: number }, signal: AbortSignal): Promise<void> | undefined {
    // The response's own failure (a stall, a reset, the abort) is the download's, rather than what
    // the writer makes of the bytes it did not get.
    let streamError: unknown;
    stream.once('error', (err) => (streamError ??= err));
    const body = this.counter(download, file.offset, file.size);
    let checked!: () => void;
    const check = new Promise<void>((resolve) => (checked = resolve));
    const writing = writer(body, {
      path: file.path,
      offset: file.offset,
      check: (blob) => {
        checkBlob(file.digest, file.size, blob);
        checked();
      },
    });
    if (!writing) {
      body.destroy();
      return undefined;
    }
    const onAbort = () => stream.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    pipelineCallback(stream, body, () => signal.removeEventListener('abort', onAbort));
    // It may fail after the check (the layer's own registration): not the download's concern.
    writing.catch(() => undefined);
    return Promise.race([
      check,
      writing.then(
        () => {
          throw new Error(`writing blob ${file.digest}: the writer ended without checking it`);
        },
        (err: unknown) => {
          throw streamError ?? err;
        },
      ),
    ]);
  }

  /**
   * What the response goes through to a writer of the caller's: counted for progress, refused past
   * `size`, waking the readers that follow the file (the writer appends to it as it goes).
   */
  private counter(download: Download, start: number, size: number): Transform {
    let received = start;
    let reported = 0;
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        received += chunk.length;
        if (received > size) return callback(invalidParameter(`the registry sent more than the ${size} bytes the manifest gives`));
        this.wake(download);
        const now = performance.now();
        if (now - reported >= 100 || received === size) {
          reported = now;
          download.listeners.forEach((l) => l.progress(received, size));
        }
        callback(null, chunk);
      },
    });
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

/**
 * Whether a taken body can go to the extractor: its bytes are the blob's size, and enough of them
 * are at hand to tell the compression, which is not zstd.
 */
function usableHead(taken: TakenBody, size: number): boolean {
  return taken.head.length + taken.remaining === size && taken.head.length >= 4 && compressionOf(taken.head) !== 'zstd';
}

/** Fails unless the bytes written are the blob's: its size, then its digest. */
function checkBlob(digest: Digest, size: number, written: WrittenBlob): void {
  if (written.size !== size) throw invalidParameter(`downloading blob ${digest}: expected ${size} bytes, got ${written.size}`);
  if (written.digest !== digest) throw invalidParameter(`filesystem layer verification failed for digest ${digest}: got ${written.digest}`);
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
