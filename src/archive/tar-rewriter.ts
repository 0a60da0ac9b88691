import { Transform, type TransformCallback } from 'node:stream';
import { encodeRecord } from './pax-xattrs.js';

const BLOCK = 512;

/**
 * Rewrites what tar-stream cannot handle in a tar as it streams by, finding the headers by their
 * sizes (PAX `size` records included, as tar-stream reads them); the rest passes through as is.
 * - `sparseToPax`: GNU tar's old sparse entry (type 'S', what `tar --sparse` writes by default)
 *   keeps its map in header fields and extension blocks that tar-stream does not expose; each
 *   becomes the PAX sparse 1.0 entry GNU tar would write with `--format=pax
 *   --sparse-version=1.0`: a PAX header (GNU.sparse.major/minor/realsize, size), a regular file
 *   header, then the map as text and the same data blocks. sparse.ts expands that.
 * - `rewritePax`: a function of the raw records of each PAX header (see pax-xattrs.ts: tar-stream
 *   reads and writes record values as UTF-8 text, which binary xattr values are not).
 */
export class TarRewriter extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of entry data (with padding) still to pass through before the next header. */
  private dataLeft = 0;
  /** A PAX header and its records being gathered (to rewrite them and read their `size`). */
  private pax?: { header: Buffer; chunks: Buffer[]; length: number };
  /** The next entry's size from a PAX `size` record. */
  private paxSize?: number;
  /** An 'S' header whose extension blocks are being read. */
  private sparse?: { header: Buffer; chunks: Array<[number, number]> };

  constructor(private readonly options: { sparseToPax: boolean; rewritePax?: (records: Buffer) => Buffer }) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      this.consume();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    // A truncated tar stays truncated: tar-stream reports it.
    this.push(this.pending);
    callback();
  }

  private consume(): void {
    for (;;) {
      if (this.dataLeft > 0) {
        if (this.pending.length === 0) return;
        const piece = this.takeBytes(Math.min(this.dataLeft, this.pending.length));
        this.dataLeft -= piece.length;
        if (this.pax) this.gatherPax(piece);
        else this.push(piece);
        continue;
      }
      if (this.pending.length < BLOCK) return;
      const block = this.takeBytes(BLOCK);
      if (this.sparse) this.readExtension(block);
      else this.readHeader(block);
    }
  }

  private takeBytes(length: number): Buffer {
    const piece = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    return piece;
  }

  private readHeader(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      this.push(block);
      return;
    }
    if (!checksumValid(block)) {
      // Not a tar (or a corrupt one): pass everything on for tar-stream to say so.
      this.push(Buffer.concat([block, this.pending]));
      this.pending = Buffer.alloc(0);
      this.dataLeft = Number.POSITIVE_INFINITY;
      return;
    }
    const type = String.fromCharCode(block[156]!);
    const size = numeric(block, 124, 12);
    if (type === 'S' && this.options.sparseToPax) {
      this.sparse = { header: Buffer.from(block), chunks: sparseChunks(block, 386, 4) };
      if (block[482] === 0) this.finishSparse();
      return;
    }
    if (type === 'x') {
      this.pax = { header: Buffer.from(block), chunks: [], length: size };
      this.dataLeft = padded(size);
      if (size === 0) this.finishPax();
      return;
    }
    this.push(block);
    const entrySize = type === 'g' || type === 'L' || type === 'K' ? size : (this.paxSize ?? size);
    if (type !== 'g' && type !== 'L' && type !== 'K') this.paxSize = undefined;
    // tar-stream reads no data for a directory, whatever its size field says.
    this.dataLeft = type === '5' ? 0 : padded(entrySize);
  }

  private gatherPax(piece: Buffer): void {
    this.pax!.chunks.push(piece);
    if (this.dataLeft === 0) this.finishPax();
  }

  private finishPax(): void {
    const { header, chunks, length } = this.pax!;
    this.pax = undefined;
    const original = Buffer.concat(chunks).subarray(0, length);
    const records = this.options.rewritePax ? this.options.rewritePax(original) : original;
    writeOctal(header, 124, 12, records.length);
    setChecksum(header);
    const recordBlocks = Buffer.alloc(padded(records.length));
    records.copy(recordBlocks);
    this.push(Buffer.concat([header, recordBlocks]));
    const size = /(?:^|\n)\d+ size=(\d+)\n/.exec(records.toString('latin1'))?.[1];
    this.paxSize = size === undefined ? undefined : Number(size);
  }

  private readExtension(block: Buffer): void {
    this.sparse!.chunks.push(...sparseChunks(block, 0, 21));
    if (block[504] === 0) this.finishSparse();
  }

  /** Emits the PAX sparse 1.0 form of the 'S' entry read, then lets its data blocks through. */
  private finishSparse(): void {
    const { header, chunks } = this.sparse!;
    this.sparse = undefined;
    const dataSize = this.paxSize ?? numeric(header, 124, 12);
    this.paxSize = undefined;
    const map = Buffer.from(`${chunks.length}\n${chunks.map(([offset, size]) => `${offset}\n${size}\n`).join('')}`);
    const mapBlocks = Buffer.alloc(padded(map.length));
    map.copy(mapBlocks);
    const size = mapBlocks.length + dataSize;
    const records = Buffer.concat(
      Object.entries({
        'GNU.sparse.major': '1',
        'GNU.sparse.minor': '0',
        'GNU.sparse.realsize': String(numeric(header, 483, 12)),
        size: String(size),
      }).map(([key, value]) => encodeRecord(key, Buffer.from(value))),
    );
    const paxHeader = Buffer.alloc(BLOCK);
    paxHeader.write('PaxHeaders/sparse', 0, 'latin1');
    paxHeader.write('0000644\0', 100, 'latin1');
    writeOctal(paxHeader, 124, 12, records.length);
    paxHeader[156] = 'x'.charCodeAt(0);
    paxHeader.write('ustar\x0000', 257, 'latin1');
    setChecksum(paxHeader);
    const fileHeader = Buffer.from(header);
    fileHeader[156] = '0'.charCodeAt(0);
    // The GNU fields after the name prefix (times, sparse map, real size) mean nothing now.
    fileHeader.fill(0, 345);
    writeOctal(fileHeader, 124, 12, size < 8 ** 11 ? size : 0);
    setChecksum(fileHeader);
    const recordBlocks = Buffer.alloc(padded(records.length));
    records.copy(recordBlocks);
    this.push(Buffer.concat([paxHeader, recordBlocks, fileHeader, mapBlocks]));
    this.dataLeft = padded(dataSize);
  }
}

/** The (offset, size) pairs of an old GNU sparse map: `count` 24-byte slots from `start`. */
function sparseChunks(block: Buffer, start: number, count: number): Array<[number, number]> {
  const chunks: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    const at = start + i * 24;
    if (block[at] === 0) break;
    chunks.push([numeric(block, at, 12), numeric(block, at + 12, 12)]);
  }
  return chunks;
}

/** A tar number field: octal text, or GNU base-256 when its first byte has the high bit set. */
function numeric(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    if (!Number.isSafeInteger(value)) throw new Error('tar header number out of range');
    return value;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`invalid tar header number ${JSON.stringify(text)}`);
  return text === '' ? 0 : parseInt(text, 8);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

/** The header's checksum: its bytes summed, with the checksum field counted as spaces. */
function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

function checksumValid(block: Buffer): boolean {
  const text = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim();
  return /^[0-7]+$/.test(text) && parseInt(text, 8) === checksum(block);
}

function setChecksum(block: Buffer): void {
  block.write(`${checksum(block).toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}
