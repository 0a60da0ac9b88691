import { ftruncateSync, writeSync } from 'node:fs';

/**
 * GNU tar stores a sparse file as its data chunks only, with a map of where each chunk goes.
 * Two of its PAX encodings carry everything needed to rebuild the file, and are expanded here
 * with the holes left as holes:
 * - 1.0 (`--sparse-version=1.0`): the map is at the start of the entry's data, in decimal
 *   numbers one per line (count, then offset and size pairs), padded to a 512-byte block;
 * - 0.1: the map is the PAX record GNU.sparse.map ("offset,size,offset,size,…").
 * GNU's old 'S' entry reaches this module already rewritten as 1.0 (tar-rewriter.ts). Version 0.0
 * repeats PAX keys (the map cannot be read back from a key/value record): it is refused by name
 * rather than stored as a wrong file.
 */
export interface SparseEntry {
  /** The file's real name (the header's name is a GNUSparseFile.* placeholder). */
  name: string;
  realSize: number;
  /** The map when the PAX records hold it (0.1); undefined when it leads the data (1.0). */
  map?: Chunk[];
}

interface Chunk {
  offset: number;
  size: number;
}

const BLOCK = 512;

/** The sparse description of an entry, or undefined for an ordinary one. */
export function sparseEntry(headerName: string, pax: Record<string, string> | undefined): SparseEntry | undefined {
  if (!pax || !Object.keys(pax).some((key) => key.startsWith('GNU.sparse.'))) return undefined;
  const name = pax['GNU.sparse.name'] ?? pax.path ?? headerName;
  const major = pax['GNU.sparse.major'];
  const minor = pax['GNU.sparse.minor'];
  if (major === '1' && minor === '0') {
    return { name, realSize: number(pax['GNU.sparse.realsize'], name, 'real size') };
  }
  if (major === undefined && pax['GNU.sparse.map'] !== undefined) {
    const numbers = pax['GNU.sparse.map'].split(',').map((field) => number(field, name, 'map'));
    if (numbers.length % 2 !== 0) throw new Error(`entry ${name}: sparse map with an odd number of fields`);
    const map = pairs(numbers);
    return { name, realSize: number(pax['GNU.sparse.size'], name, 'real size'), map };
  }
  const version = major === undefined ? '0.0' : `${major}.${minor ?? '?'}`;
  throw new Error(`entry ${name}: GNU sparse format ${version} is not supported (use tar --sparse-version=1.0, or no --sparse)`);
}

/** Writes the sparse entry's chunks at their offsets into the open file `fd` and sets its size. */
export async function writeSparse(fd: number, entry: SparseEntry, content: AsyncIterable<Buffer>): Promise<void> {
  const reader = new ChunkReader(content[Symbol.asyncIterator]());
  const map = entry.map ?? (await readInlineMap(reader, entry.name));
  let end = 0;
  for (const { offset, size } of map) {
    if (offset < end || offset + size > entry.realSize) {
      throw new Error(`entry ${entry.name}: sparse map overlaps itself or exceeds the file size ${entry.realSize}`);
    }
    for (let left = size, position = offset; left > 0; ) {
      const piece = await reader.take(left);
      if (piece.length === 0) throw new Error(`entry ${entry.name}: sparse data shorter than its map`);
      for (let written = 0; written < piece.length; ) written += writeSync(fd, piece, written, piece.length - written, position + written);
      left -= piece.length;
      position += piece.length;
    }
    end = offset + size;
  }
  if ((await reader.take(1)).length > 0) throw new Error(`entry ${entry.name}: sparse data longer than its map`);
  ftruncateSync(fd, entry.realSize);
}

async function readInlineMap(reader: ChunkReader, name: string): Promise<Chunk[]> {
  const count = number(await reader.line(name), name, 'map');
  const numbers: number[] = [];
  for (let i = 0; i < count * 2; i++) numbers.push(number(await reader.line(name), name, 'map'));
  for (let padding = (BLOCK - (reader.consumed % BLOCK)) % BLOCK; padding > 0; ) {
    const skipped = await reader.take(padding);
    if (skipped.length === 0) throw new Error(`entry ${name}: truncated sparse map`);
    padding -= skipped.length;
  }
  return pairs(numbers);
}

function pairs(numbers: number[]): Chunk[] {
  const chunks: Chunk[] = [];
  for (let i = 0; i < numbers.length; i += 2) chunks.push({ offset: numbers[i]!, size: numbers[i + 1]! });
  return chunks;
}

function number(text: string | undefined, name: string, what: string): number {
  const value = text !== undefined && /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) throw new Error(`entry ${name}: invalid sparse ${what} field ${JSON.stringify(text)}`);
  return value;
}

/** Reads an entry's data stream by lines and by byte counts. */
class ChunkReader {
  private pending: Buffer = Buffer.alloc(0);
  consumed = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Up to `max` bytes (fewer only at the end of the data, where it returns an empty buffer). */
  async take(max: number): Promise<Buffer> {
    if (max === 0) return this.pending.subarray(0, 0);
    if (this.pending.length === 0) {
      const next = await this.source.next();
      if (next.done) return Buffer.alloc(0);
      this.pending = next.value;
    }
    const piece = this.pending.subarray(0, max);
    this.pending = this.pending.subarray(piece.length);
    this.consumed += piece.length;
    return piece;
  }

  /** The next newline-terminated line without its newline; map lines are short. */
  async line(name: string): Promise<string> {
    let text = '';
    for (;;) {
      const byte = await this.take(1);
      if (byte.length === 0 || text.length > 20) throw new Error(`entry ${name}: truncated or invalid sparse map`);
      if (byte[0] === 0x0a) return text;
      text += String.fromCharCode(byte[0]!);
    }
  }
}

/** The block size holes are made of: a whole block of zeros is left unwritten. */
const HOLE_BLOCK = 4096;
const ZEROS = Buffer.alloc(HOLE_BLOCK);

/**
 * Writes a regular entry's data from offset 0, leaving every block-aligned run of zeros as a hole
 * (as `cp --sparse=auto` does): a sparse file that went through a layer tar as plain data (a
 * commit packs files whole, as Docker's does) is sparse on disk again, and its content is the same.
 */
export async function writeWithHoles(fd: number, content: AsyncIterable<Buffer>): Promise<void> {
  let position = 0;
  for await (const chunk of content) {
    let run = -1;
    for (let i = 0; i < chunk.length; ) {
      const end = Math.min(chunk.length, i + HOLE_BLOCK - ((position + i) % HOLE_BLOCK));
      const zero = chunk.subarray(i, end).equals(ZEROS.subarray(0, end - i));
      if (zero && run >= 0) {
        writeAt(fd, chunk.subarray(run, i), position + run);
        run = -1;
      } else if (!zero && run < 0) run = i;
      i = end;
    }
    if (run >= 0) writeAt(fd, chunk.subarray(run), position + run);
    position += chunk.length;
  }
  ftruncateSync(fd, position);
}

function writeAt(fd: number, data: Buffer, position: number): void {
  for (let written = 0; written < data.length; ) written += writeSync(fd, data, written, data.length - written, position + written);
}

