/**
 * The build context `berth build` sends: the context directory as a tar, without what
 * .dockerignore excludes (moby's patternmatcher rules, shared with the daemon's
 * src/engine/build/dockerignore.ts), as the docker CLI packs it: paths relative to the
 * context, owners 0:0 and no user names (the daemon's COPY hashes see what Docker's would),
 * modes and times kept, links stored as links. A Dockerfile from stdin or from outside the
 * context is added under `.dockerfile.<random>` and named in the `dockerfile` parameter.
 *
 * The tar is made here block by block (no pack stream): a fully cached build is mostly this CLI
 * sending the context, and pack and pipeline streams between the file and the socket cost more
 * CPU than reading the file. Headers are written as Go's archive/tar writes the docker CLI's
 * (numbers zero-padded and NUL-terminated), so for a context whose names fit a ustar header
 * the tar is byte for byte the docker CLI's: an unchanged context gives the same bytes from
 * either client, which is what lets berthd recognise it without unpacking it again. Other names
 * (over 100 characters, or not ASCII) go through tar-stream's codec: a ustar prefix split or a
 * PAX header, which Go's writer may do otherwise, so such a context is not shared by the two.
 */
import { lstat, open, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Headers } from 'tar-stream';
import { encode, encodePax } from 'tar-stream/headers.js';
import { PatternMatcher, readDockerignore, type ParentMatches } from '../engine/build/dockerignore.js';

/** A file is read, and sent, in pieces this big. */
const READ_BYTES = 1024 * 1024;
const BLOCK = 512;
/** Padding to a block, and the two zero blocks that end a tar. */
const ZEROS = Buffer.alloc(2 * BLOCK);

export interface PackedContext {
  tar: Readable;
  /** The `dockerfile` parameter: the Dockerfile's path inside the tar. */
  dockerfile: string;
}

async function ignoreMatcher(dir: string): Promise<PatternMatcher | undefined> {
  const text = await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : new PatternMatcher(readDockerignore(text));
}

/**
 * Packs `dir`. `dockerfile` is the Dockerfile's text when it does not come from the context
 * (stdin, or a path outside it); otherwise `dockerfileName` is its path inside the context.
 */
export async function packBuildContext(dir: string, options: { dockerfileName?: string; dockerfile?: Buffer }): Promise<PackedContext> {
  const matcher = await ignoreMatcher(dir);
  // The docker CLI's name for it; the daemon takes any name the `dockerfile` parameter gives.
  const name = options.dockerfile ? `.dockerfile.${randomDockerfileSuffix()}` : (options.dockerfileName ?? 'Dockerfile');
  async function* blocks(): AsyncGenerator<Buffer> {
    yield* walk(dir, '', matcher, undefined);
    if (options.dockerfile) {
      yield* entry({ name, type: 'file', size: options.dockerfile.length, mode: 0o600, uid: 0, gid: 0, mtime: new Date() });
      yield options.dockerfile;
      yield* padding(options.dockerfile.length);
    }
    yield ZEROS;
  }
  // Each buffer as it is (a byte-mode stream would copy them together); a few read ahead.
  return { tar: Readable.from(blocks(), { highWaterMark: 4 }), dockerfile: name };
}

async function* walk(root: string, rel: string, matcher: PatternMatcher | undefined, parent: ParentMatches | undefined): AsyncGenerator<Buffer> {
  for (const entryName of (await readdir(join(root, rel))).sort()) {
    const path = rel === '' ? entryName : `${rel}/${entryName}`;
    const result = matcher?.matchesUsingParentResults(path, parent);
    const stats = await lstat(join(root, path));
    if (result?.excluded) {
      // An excluded directory may still hold an exception (`!`) only when there are exceptions.
      if (stats.isDirectory() && matcher?.exclusions) yield* walk(root, path, matcher, result.matches);
      continue;
    }
    const header: Headers = { name: path, mode: stats.mode & 0o7777, uid: 0, gid: 0, mtime: stats.mtime, size: 0 };
    if (stats.isDirectory()) {
      yield* entry({ ...header, name: `${path}/`, type: 'directory' });
      yield* walk(root, path, matcher, result?.matches);
    } else if (stats.isSymbolicLink()) {
      yield* entry({ ...header, type: 'symlink', linkname: await readlink(join(root, path)) });
    } else if (stats.isFile()) {
      yield* entry({ ...header, type: 'file', size: stats.size });
      yield* fileContent(join(root, path), stats.size);
      yield* padding(stats.size);
    }
  }
}

const TYPEFLAGS = { file: '0', symlink: '2', directory: '5' } as const;

/** Writes a number as Go's archive/tar does: octal, zero-padded to the field's width less one, then NUL. */
function goOctal(block: Buffer, offset: number, width: number, value: number): boolean {
  if (value < 0) return false;
  const digits = value.toString(8);
  if (digits.length > width - 1) return false;
  block.write(digits.padStart(width - 1, '0'), offset, 'latin1');
  return true;
}

/** The ustar header Go's archive/tar writes for the docker CLI's context, or undefined when a name or number does not fit one. */
function goUstarHeader(header: Headers & { type: keyof typeof TYPEFLAGS }): Buffer | undefined {
  const { name, linkname = '' } = header;
  const fits = (text: string) => text.length <= 100 && /^[\x01-\x7f]*$/.test(text);
  if (!fits(name) || !fits(linkname ?? '')) return undefined;
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 'latin1');
  const numbers: [number, number, number][] = [
    [100, 8, header.mode ?? 0],
    [108, 8, header.uid ?? 0],
    [116, 8, header.gid ?? 0],
    [124, 12, header.size ?? 0],
    [136, 12, Math.floor((header.mtime ?? new Date(0)).getTime() / 1000)],
    [329, 8, 0],
    [337, 8, 0],
  ];
  for (const [offset, width, value] of numbers) if (!goOctal(block, offset, width, value)) return undefined;
  block.write(TYPEFLAGS[header.type], 156, 'latin1');
  if (linkname) block.write(linkname, 157, 'latin1');
  block.write('ustar\u000000', 257, 'latin1');
  // The checksum counts its own field as spaces, and is written as six digits, NUL, space.
  block.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.fill(0, 148, 156);
  goOctal(block, 148, 7, sum);
  block.write(' ', 155, 'latin1');
  return block;
}

/** The header blocks of an entry: ustar as Go writes it, or a PAX header first when a name does not fit (as tar-stream's pack). */
function* entry(entryHeader: Headers & { type: keyof typeof TYPEFLAGS }): Generator<Buffer> {
  // A time the ustar field cannot hold (before 1970, after 2242) is sent as the nearest it can:
  // berthd's extractor refuses a negative number (a COPY of such a file gives it the clamped time).
  const seconds = Math.min(Math.max(Math.floor((entryHeader.mtime ?? new Date(0)).getTime() / 1000), 0), 0o77777777777);
  const header = { ...entryHeader, mtime: new Date(seconds * 1000) };
  const plain = goUstarHeader(header) ?? encode(header);
  if (plain) {
    yield plain;
    return;
  }
  const pax = encodePax({ name: header.name, linkname: header.linkname });
  const named = { ...header, name: 'PaxHeader', linkname: header.linkname && 'PaxHeader' };
  yield encode({ ...named, type: 'pax-header', size: pax.length })!;
  yield pax;
  yield* padding(pax.length);
  yield encode(named)!;
}

/** Exactly `size` bytes of the file (its size when it was listed), in fresh buffers the socket may still hold. */
async function* fileContent(path: string, size: number): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    for (let at = 0; at < size; ) {
      const piece = Buffer.allocUnsafe(Math.min(READ_BYTES, size - at));
      const { bytesRead } = await file.read(piece, 0, piece.length, at);
      if (bytesRead === 0) throw new Error(`${path} shrank while it was sent`);
      yield bytesRead === piece.length ? piece : piece.subarray(0, bytesRead);
      at += bytesRead;
    }
  } finally {
    await file.close();
  }
}

/** The zeros that fill the last block of `size` bytes of content. */
function* padding(size: number): Generator<Buffer> {
  if (size % BLOCK !== 0) yield ZEROS.subarray(0, BLOCK - (size % BLOCK));
}

/**
 * Loaded on first use: node:crypto would otherwise be part of the CLI's startup snapshot, whose
 * heap every call deserializes (0.2 MB for a module only `build -f -` needs).
 */
function randomDockerfileSuffix(): string {
  return process.getBuiltinModule('node:crypto').randomBytes(10).toString('hex');
}
