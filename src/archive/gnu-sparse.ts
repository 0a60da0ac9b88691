import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;

/**
 * GNU tar's old sparse entry (type 'S', what `tar --sparse` writes by default) keeps its map in
 * header fields and extension blocks that tar-stream does not expose, so this stream rewrites
 * each one, on the way into tar-stream, as the PAX sparse 1.0 entry GNU tar would write with
 * `--format=pax --sparse-version=1.0`: a PAX header (GNU.sparse.major/minor/realsize, size), a
 * regular file header, then the map as text and the same data blocks. sparse.ts expands that.
 * Every other entry passes through unchanged; the stream only follows header sizes to find the
 * headers (PAX `size` records included, as tar-stream reads them).
 */
export class GnuSparseAsPax extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of entry data (with padding) still to pass through before the next header. */
  private dataLeft = 0;
  /** A PAX header's data being gathered (to read its `size`), with the bytes still to come. */
  private pax?: { chunks: Buffer[]; length: number };
  /** The next entry's size from a PAX `size` record. */
  private paxSize?: number;
  /** An 'S' header whose extension blocks are being read. */
  private sparse?: { header: Buffer; chunks: Array<[number, number]> };

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
    const type = String.fromCharCode(block[156]!);
    const size = numeric(block, 124, 12);
    if (type === 'S') {
      this.sparse = { header: Buffer.from(block), chunks: sparseChunks(block, 386, 4) };
      if (block[482] === 0) this.finishSparse();
      return;
    }
    this.push(block);
    if (type === 'x') {
      this.pax = { chunks: [], length: size };
      this.dataLeft = padded(size);
      return;
    }
    const entrySize = type === 'g' || type === 'L' || type === 'K' ? size : (this.paxSize ?? size);
    if (type !== 'g' && type !== 'L' && type !== 'K') this.paxSize = undefined;
    // tar-stream reads no data for a directory, whatever its size field says.
    this.dataLeft = type === '5' ? 0 : padded(entrySize);
  }

  private gatherPax(piece: Buffer): void {
    const pax = this.pax!;
    pax.chunks.push(piece);
    this.push(piece);
    if (this.dataLeft > 0) return;
    const records = Buffer.concat(pax.chunks).subarray(0, pax.length).toString('utf8');
    const size = /(?:^|\n)\d+ size=(\d+)\n/.exec(records)?.[1];
    this.paxSize = size === undefined ? undefined : Number(size);
    this.pax = undefined;
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
    const records = paxRecords({
      'GNU.sparse.major': '1',
      'GNU.sparse.minor': '0',
      'GNU.sparse.realsize': String(numeric(header, 483, 12)),
      size: String(size),
    });
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

function setChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  const sum = block.reduce((total, byte) => total + byte, 0);
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
}

/** PAX records "LEN key=value\n", LEN counting the whole record with its own digits. */
function paxRecords(values: Record<string, string>): Buffer {
  const records = Object.entries(values).map(([key, value]) => {
    const body = ` ${key}=${value}\n`;
    let length = body.length + 1;
    while (String(length).length + body.length !== length) length++;
    return `${length}${body}`;
  });
  return Buffer.from(records.join(''), 'utf8');
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}
