import { spawn } from 'node:child_process';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { invalidParameter } from '../common/errors.js';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const BZIP2_MAGIC = [0x42, 0x5a, 0x68]; // "BZh"
const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
/** Enough of a stream's first bytes to tell a layer's compression (gzip, zstd) by magic number. */
const MAGIC_BYTES = 4;

/**
 * Past this many output bytes, an expansion ratio above MAX_RATIO is taken for a decompression
 * bomb. Real layers rarely pass 100:1 over tens of megabytes, and gzip cannot pass ~1030:1 at
 * all (so a gzip stream is never refused); zeros compressed by zstd reach 30000:1: 40 KB that
 * would write 1.2 GB.
 */
export const BOMB_THRESHOLD_BYTES = 64 * 1024 * 1024;
export const MAX_RATIO = 2000;
/** fzstd decompresses synchronously: input is fed in slices this big to keep each turn short. */
const ZSTD_SLICE = 64 * 1024;

export type Compression = 'gzip' | 'zstd' | 'none';

/** What compression bytes starting with `head` (four bytes are enough) use, by magic number. */
export function compressionOf(head: Uint8Array): Compression {
  if (GZIP_MAGIC.every((byte, i) => head[i] === byte)) return 'gzip';
  if (ZSTD_MAGIC.every((byte, i) => head[i] === byte)) return 'zstd';
  return 'none';
}

/** Whether bytes starting with `head` (two bytes are enough) are gzip-compressed. */
export function isGzip(head: Uint8Array): boolean {
  return compressionOf(head) === 'gzip';
}

/**
 * Returns the stream's bytes, decompressed when they start with gzip's or zstd's magic number, so
 * callers can pass a layer or an image archive as .tar, .tar.gz or .tar.zst alike. Errors of
 * `input` or of the decompressor surface on the result, and so does a decompression bomb (see
 * MAX_RATIO), as an invalid-parameter error.
 */
export function decompress(input: Readable): Readable {
  return Readable.from(decompressedChunks(input, compressionOf), { objectMode: false });
}

/**
 * decompress() that hands back `input` itself (what was read to tell its compression put back)
 * when it is not compressed: an image archive's hundreds of megabytes then reach the tar parser
 * without a generator and a second stream per chunk, which cost more CPU than the parsing.
 */
export async function decompressed(input: Readable): Promise<Readable> {
  const { head, whole } = await peekStream(input, MAGIC_BYTES);
  return compressionOf(head) === 'none' ? whole : decompress(whole);
}

/**
 * The first `bytes` of `stream` (fewer if it is shorter), and the stream to read it whole from,
 * with what was read put back (or, for a stream that ended meanwhile, a new one of those bytes).
 */
export async function peekStream(stream: Readable, bytes: number): Promise<{ head: Buffer; whole: Readable }> {
  const taken: Buffer[] = [];
  let length = 0;
  for (;;) {
    // What is missing, or all that is buffered when that is less (read() joins what it returns:
    // a whole buffered megabyte copied for four bytes); the next 'readable' then comes with new
    // bytes or the end only.
    for (let chunk: Buffer | null; length < bytes && (chunk = readUpTo(stream, bytes - length)) !== null; length += chunk.length) taken.push(chunk);
    if (length >= bytes || stream.readableEnded || stream.destroyed) break;
    await readableOrEnded(stream);
  }
  const head = Buffer.concat(taken);
  if (stream.readableEnded) return { head, whole: Readable.from([head]) };
  if (head.length > 0) stream.unshift(head);
  return { head: head.subarray(0, bytes), whole: stream };
}

function readUpTo(stream: Readable, bytes: number): Buffer | null {
  return stream.read(stream.readableLength >= bytes ? bytes : undefined) as Buffer | null;
}

function readableOrEnded(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      stream.off('readable', ready).off('end', ready).off('close', ready).off('error', settle);
      if (err) reject(err);
      else resolve();
    };
    const ready = () => settle();
    stream.on('readable', ready).on('end', ready).on('close', ready).on('error', settle);
  });
}

/** Compressions of an archive ADD unpacks (moby's DecompressStream), beyond a layer's. */
type ArchiveCompression = Compression | 'bzip2' | 'xz';

function archiveCompressionOf(head: Uint8Array): ArchiveCompression {
  if (BZIP2_MAGIC.every((byte, i) => head[i] === byte)) return 'bzip2';
  if (XZ_MAGIC.every((byte, i) => head[i] === byte)) return 'xz';
  return compressionOf(head);
}

/**
 * decompress() for an archive a Dockerfile's ADD unpacks, which may also be bzip2- or
 * xz-compressed: those go through Debian's bzip2 and xz programs, as moby runs `xz` for xz.
 * Not for layers, whose media types name gzip and zstd only.
 */
export function decompressArchive(input: Readable): Readable {
  return Readable.from(decompressedChunks(input, archiveCompressionOf), { objectMode: false });
}

async function* decompressedChunks(input: AsyncIterable<Buffer>, detect: (head: Uint8Array) => ArchiveCompression): AsyncGenerator<Buffer> {
  const iterator = input[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let compressedBytes = 0;
  while (head.length < XZ_MAGIC.length) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  async function* whole(): AsyncGenerator<Buffer> {
    compressedBytes += head.length;
    if (head.length > 0) yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      compressedBytes += next.value.length;
      yield next.value;
    }
  }
  const compression = detect(head);
  if (compression === 'none') {
    yield* whole();
    return;
  }
  let outputBytes = 0;
  const decompressed =
    compression === 'gzip' ? gunzipped(whole()) : compression === 'zstd' ? unzstded(whole()) : externallyDecompressed(whole(), compression);
  for await (const chunk of decompressed) {
    outputBytes += chunk.length;
    if (outputBytes > BOMB_THRESHOLD_BYTES && outputBytes > compressedBytes * MAX_RATIO) {
      throw invalidParameter(
        `decompression bomb: ${compressedBytes} ${compression} bytes expanded to more than ${outputBytes} (over ${MAX_RATIO}:1); refusing the rest`,
      );
    }
    yield chunk;
  }
}

function gunzipped(source: AsyncGenerator<Buffer>): AsyncIterable<Buffer> {
  const gunzip = createGunzip();
  // pipeline destroys gunzip with any error of the source, which the caller's loop then throws.
  pipeline(Readable.from(source, { objectMode: false }), gunzip, () => {});
  return gunzip;
}

/** `bzip2 -dc` or `xz -dc` over the source; what the program says on failure is the error. */
async function* externallyDecompressed(source: AsyncGenerator<Buffer>, program: 'bzip2' | 'xz'): AsyncGenerator<Buffer> {
  const child = spawn(program, ['-dcq'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  exited.catch(() => undefined);
  // A program that stops reading (bad data) closes its stdin: its exit status tells why.
  child.stdin.on('error', () => {});
  pipeline(Readable.from(source, { objectMode: false }), child.stdin, () => {});
  try {
    yield* child.stdout as AsyncIterable<Buffer>;
    const status = await exited;
    if (status !== 0) throw invalidParameter(`invalid ${program} data: ${Buffer.concat(stderr).toString('utf8').trim() || `${program} exited with status ${status}`}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

async function* unzstded(source: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  let out: Buffer[] = [];
  const zstd = new ZstdDecompress((data) => {
    // A copy: the data may be a view of the window fzstd goes on writing into.
    out.push(Buffer.from(data));
  });
  const drain = () => {
    const chunks = out;
    out = [];
    return chunks;
  };
  try {
    for await (const chunk of source) {
      for (let offset = 0; offset < chunk.length; offset += ZSTD_SLICE) {
        zstd.push(chunk.subarray(offset, offset + ZSTD_SLICE));
        yield* drain();
      }
    }
    zstd.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof Error && 'code' in err && typeof err.code === 'number') throw invalidParameter(`invalid zstd data: ${err.message}`, err);
    throw err;
  }
  yield* drain();
}
