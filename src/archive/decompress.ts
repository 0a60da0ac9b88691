import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

const GZIP_MAGIC = [0x1f, 0x8b];

/** Whether bytes starting with `head` (two bytes are enough) are gzip-compressed. */
export function isGzip(head: Uint8Array): boolean {
  return GZIP_MAGIC.every((byte, i) => head[i] === byte);
}

/**
 * Returns the stream's bytes, gunzipped when they start with gzip's magic number, so callers can
 * pass a layer as .tar or .tar.gz alike. Errors of `input` or of gunzip surface on the result.
 */
export function decompress(input: Readable): Readable {
  return Readable.from(decompressedChunks(input), { objectMode: false });
}

async function* decompressedChunks(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = input[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < GZIP_MAGIC.length) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  async function* whole(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  if (!isGzip(head)) {
    yield* whole();
    return;
  }
  const gunzip = createGunzip();
  // pipeline destroys gunzip with any error of the source, which the loop below then throws.
  pipeline(Readable.from(whole(), { objectMode: false }), gunzip, () => {});
  yield* gunzip;
}
