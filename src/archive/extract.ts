import { spawn } from 'node:child_process';
import { fstatSync, readSync, ReadStream } from 'node:fs';
import { once } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, invalidParameter, wrap } from '../common/errors.js';
import { nativeToolPath } from '../native/tools.js';
import { compressionOf, decompress, peekStream, type Compression } from './decompress.js';
import { helperFailure } from './helper-process.js';
import type { WhiteoutMode } from './whiteouts.js';

const UNTAR = nativeToolPath('berth-untar');

// Failures of the disk rather than of the tar: not the caller's fault.
const STORAGE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);

/** Enough of a layer's first bytes to tell its compression by magic number. */
const MAGIC_BYTES = 4;

export interface ExtractOptions {
  whiteouts: WhiteoutMode;
  /**
   * The layer may be compressed (told by its magic number): gzip is gunzipped by the extractor
   * itself, zstd here first. Without it the bytes are the tar, whatever they start with.
   */
  decompress?: boolean;
  /** Also compute the layer's diff ID (sha256 of the uncompressed tar) in the same pass. */
  digest?: boolean;
  /**
   * The layer is an unread file still being written (a blob the content store is storing), read
   * by the extractor as it grows; `growing` is told the channel on which to say when (see
   * GrowingFile). Plain or gzip only: a zstd layer is refused (decompressed here, it would be
   * read as a stream, which ends where the file does for now).
   */
  growing?: GrowingFile;
  /**
   * The bytes are a blob being downloaded, and its file is the extractor's to write: the bytes
   * `path` holds already (a download resumed) come first, then the stream's, which are appended to
   * it; gzip is told by its magic number (zstd is not read so: give such a blob as a stream).
   * `check` is handed the sha256 and size of the file's bytes once all are read, also when the tar
   * turns out broken (a blob that does not match its digest is the likelier cause): what it
   * throws fails the extraction.
   */
  blob?: BlobFile;
}

/** The writer's side of a layer file unpacked as it is written (berth-untar --follow). */
export interface GrowingFile {
  /**
   * `channel` reaches the extractor: write '+' to it after each write to the file, end it with
   * 'E' once the file is whole, destroy it if no more will come (the extractor then fails).
   */
  follow(channel: Writable): void;
}

export interface BlobFile {
  path: string;
  check(blob: { digest: `sha256:${string}`; size: number }): void;
  /**
   * The rest of the blob is read by the extractor from the registry's connection itself, not from
   * the stream (see response-hand-off.ts); the stream then carries no bytes.
   */
  connection?: BlobConnection;
}

/** A registry's connection whose response body the extractor reads itself (berth-untar --socket). */
export interface BlobConnection {
  /**
   * The connection's descriptor, berthd's copy, open until the extraction has settled: the
   * extractor gets its own.
   */
  fd: number;
  /** The blob's size: the file's bytes and the connection's together. */
  size: number;
  /** Waiting this long for a byte fails the blob, as berthd's own stall timer would (0: no limit). */
  stallTimeoutMs: number;
  /** The download given up: the extractor is not started, or is stopped. */
  signal: AbortSignal;
}

export interface Extracted {
  /** Bytes of the uncompressed tar. */
  size: number;
  /** `sha256:<hex>` of the uncompressed tar, when asked for. */
  diffId?: `sha256:${string}`;
  /** How the layer was compressed, when it was to be decompressed (ExtractOptions.decompress). */
  compression?: Compression;
}

/**
 * Unpacks a layer tar into `destDir`. Paths are never resolved in this process: berth-untar
 * (src/native/tools/untar.c) chroots into `destDir` before it reads the tar, so no name, '..' or
 * symlink in the tar can reach outside it.
 */
export async function extractTar(tar: Readable, destDir: string, options: ExtractOptions): Promise<Extracted> {
  const context = `extracting layer into ${destDir}`;
  let source = tar;
  let compression: Compression | undefined;
  const args = [destDir, options.whiteouts];
  const connection = options.blob?.connection;
  if (options.blob) {
    args.push('--blob', options.blob.path);
    if (connection) args.push('--socket', String(connection.size), String(Math.ceil(connection.stallTimeoutMs)));
  } else if (options.decompress) {
    const { head, whole } = await peekHead(tar).catch((err: Error) => {
      throw invalidParameter(`${context}: reading the layer: ${err.message}`, err);
    });
    compression = compressionOf(head);
    source = compression === 'zstd' ? decompress(whole) : whole;
    if (compression === 'gzip') args.push('--gzip');
  }
  if (options.digest) args.push('--digest');
  const file = connection ? { fd: connection.fd } : unreadFile(source);
  if (options.growing) {
    if (!file) throw invalidParameter(`${context}: a layer being written is unpacked only from its file, plain or gzip`);
    args.push('--follow');
  }
  connection?.signal.throwIfAborted();
  const helper = spawn(UNTAR, args, {
    stdio: [file?.fd ?? 'pipe', 'pipe', 'pipe', ...(options.growing ? ['pipe' as const] : [])],
    // Reading a connection, it dies with berthd (see untar.c), which it tells by this.
    ...(connection ? { env: { BERTH_PARENT_PID: String(process.pid) } } : {}),
  });
  const channel = helper.stdio[3] as Writable | null | undefined;
  if (options.growing && channel) options.growing.follow(channel);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  helper.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  helper.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  // Settled from the start: a helper that cannot be spawned ('error') must not be an unhandled
  // rejection while the feed below is awaited.
  const exited = (once(helper, 'close') as Promise<[number | null, NodeJS.Signals | null]>).then(
    ([status, signal]) => ({ status, signal, spawnError: undefined }),
    (spawnError: Error) => ({ status: null, signal: null, spawnError }),
  );

  let feedError: unknown;
  if (connection) {
    // The helper reads the connection itself, until the download is given up.
    const giveUp = () => helper.kill('SIGKILL');
    connection.signal.addEventListener('abort', giveUp, { once: true });
    void exited.then(() => connection.signal.removeEventListener('abort', giveUp));
  } else if (file) {
    // The helper has its own copy of the descriptor and reads it from its start.
    source.destroy();
  } else {
    // A source error closes the helper's stdin; the helper then fails on the truncated tar.
    feedError = await pipeline(source, helper.stdin!).then(
      () => undefined,
      (err: unknown) => err,
    );
  }
  const { status, signal, spawnError } = await exited;

  if (spawnError !== undefined) throw wrap(spawnError, `${context}: starting berth-untar`);
  if (status !== 0) {
    const failure = helperFailure(Buffer.concat(stderr).toString('utf8'), status, signal);
    // A feed cut short (the download failed) leaves a blob short of its bytes: that failure says why.
    if (options.blob && failure.blob && feedError === undefined) options.blob.check(failure.blob);
    const kind = failure.code !== undefined && STORAGE_ERRORS.has(failure.code) ? 'internal' : 'invalid-parameter';
    const code = failure.code !== undefined && !failure.message.includes(failure.code) ? ` (${failure.code})` : '';
    throw new BerthError(kind, `${context}: ${failure.message}${code}`);
  }
  if (feedError !== undefined) throw invalidParameter(`${context}: reading the layer: ${(feedError as Error).message}`, feedError);
  const { blob, ...extracted } = JSON.parse(Buffer.concat(stdout).toString('utf8')) as Extracted & { blob?: Parameters<BlobFile['check']>[0] };
  if (options.blob) options.blob.check(blob!);
  return compression === undefined ? extracted : { ...extracted, compression };
}

/**
 * A whole file opened for this read (a blob of the content store) that nothing has read from yet:
 * it becomes the helper's stdin, so the kernel feeds the helper and the daemon moves no byte of it.
 * Anything else (a socket, a decompressor, a file read from an offset) is piped by the daemon.
 */
function unreadFile(tar: Readable): { fd: number } | undefined {
  if (!(tar instanceof ReadStream) || tar.pending || tar.bytesRead > 0 || tar.readableFlowing !== null) return undefined;
  // Typed only in part: `fd` is the descriptor once open, `start`/`end` the range asked for.
  const { fd, start, end } = tar as ReadStream & { fd?: unknown; start?: number; end?: number };
  if (typeof fd !== 'number' || (start ?? 0) !== 0 || (end !== undefined && end !== Infinity)) return undefined;
  return fstatSync(fd).isFile() ? { fd } : undefined;
}

/**
 * The first MAGIC_BYTES of `tar` (fewer if it is shorter), and the stream to read it whole from:
 * an unread file is read at offset 0 (which keeps it unread, for unreadFile); a stream has what
 * was read put back.
 */
async function peekHead(tar: Readable): Promise<{ head: Buffer; whole: Readable }> {
  const file = unreadFile(tar);
  if (!file) return peekStream(tar, MAGIC_BYTES);
  const head = Buffer.alloc(MAGIC_BYTES);
  return { head: head.subarray(0, readSync(file.fd, head, 0, MAGIC_BYTES, 0)), whole: tar };
}
