/**
 * Reads an image archive (`docker save` output, any format, plain or compressed) as it streams
 * in: big files go straight into the content store, small ones (manifests, configs, small
 * layers) stay in memory until the loader knows what they are. Nothing is written outside the
 * content store, so a load that fails leaves only unreferenced blobs, which garbage collection
 * removes once the load's lease is released.
 */
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { decompressed } from '../../archive/index.js';
import { invalidParameter } from '../../common/errors.js';
import type { ContentStore, Lease } from '../../storage/content-store.js';
import { sha256Digest, type Digest } from '../../storage/digest.js';
import type { UnpackAhead } from './image-archive-unpack-ahead.js';

/** Files up to this size are kept in memory while the archive is read. */
export const SMALL_FILE_BYTES = 1024 * 1024;
/** Past this many bytes of small files in memory, further ones go to the content store too. */
export const MEMORY_BUDGET_BYTES = 64 * 1024 * 1024;
/** Symbolic links followed at most, as Linux's MAXSYMLINKS. */
const MAX_LINK_HOPS = 40;

type ArchiveFile = { data: Buffer } | { digest: Digest; size: number };

const BLOB_NAME = /^blobs\/sha256\/([0-9a-f]{64})$/;

/** The regular files of an image archive and the links between them, by normalised path. */
export class ImageArchiveContents {
  private readonly files = new Map<string, ArchiveFile>();
  private readonly links = new Map<string, string>();

  constructor(
    private readonly content: ContentStore,
    private readonly lease: Lease,
  ) {}

  has(path: string): boolean {
    return this.find(path) !== undefined;
  }

  /** A small file's bytes (a manifest or a config); refuses one bigger than SMALL_FILE_BYTES. */
  async read(path: string, what: string): Promise<Buffer> {
    const file = this.resolve(path, what);
    if ('data' in file) return file.data;
    if (file.size > SMALL_FILE_BYTES) throw invalidParameter(`invalid image archive: ${what} ${path} is ${file.size} bytes, too big for one`);
    return this.content.read(file.digest);
  }

  async readJson<T>(path: string, what: string): Promise<T> {
    const data = await this.read(path, what);
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch (err) {
      throw invalidParameter(`invalid image archive: ${what} ${path} is not valid JSON: ${(err as Error).message}`);
    }
  }

  /** The file as a blob of the content store (held by the load's lease), storing it if it is in memory. */
  async blob(path: string, what: string): Promise<{ digest: Digest; size: number }> {
    const file = this.resolve(path, what);
    if (!('data' in file)) return file;
    const stored = await this.content.put(file.data, undefined, this.lease);
    this.files.set(this.target(path)!, stored);
    return stored;
  }

  /** The path a name leads to after links, or undefined when it leads nowhere. */
  private target(path: string): string | undefined {
    let current = normalise(path);
    for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
      if (this.files.has(current)) return current;
      const next = this.links.get(current);
      if (next === undefined) return undefined;
      current = next;
    }
    throw invalidParameter(`invalid image archive: too many levels of links at ${path}`);
  }

  private find(path: string): ArchiveFile | undefined {
    const target = this.target(path);
    return target === undefined ? undefined : this.files.get(target);
  }

  private resolve(path: string, what: string): ArchiveFile {
    const file = this.find(path);
    if (!file) throw invalidParameter(`invalid image archive: ${what} ${path} is missing from the archive`);
    return file;
  }

  addFile(path: string, file: ArchiveFile): void {
    this.links.delete(path);
    this.files.set(path, file);
  }

  addLink(path: string, target: string): void {
    this.files.delete(path);
    this.links.set(path, target);
  }
}

/**
 * Reads the archive `input` (tar, tar.gz or tar.zst) whole. Refuses, with an invalid-parameter
 * error naming the entry, names and links that lead outside the archive and entries that have no
 * place in one (devices, FIFOs); a file under blobs/sha256/ must have the digest its name says.
 * `ahead` unpacks the big files as they are stored, in case they are layers.
 */
export async function readImageArchive(input: Readable, content: ContentStore, lease: Lease, ahead?: UnpackAhead): Promise<ImageArchiveContents> {
  const contents = new ImageArchiveContents(content, lease);
  const entries = extract();
  let source: Readable | undefined;
  let inMemory = 0;
  try {
    source = await decompressed(input);
    source.on('error', (err) => entries.destroy(err));
    input.on('error', (err) => entries.destroy(err));
    source.pipe(entries);
    for await (const entry of entries) {
      const { header } = entry;
      const path = entryName(header.name);
      switch (header.type) {
        case 'file':
        case 'contiguous-file': {
          const size = header.size ?? 0;
          const named = BLOB_NAME.exec(path)?.[1];
          if (size <= SMALL_FILE_BYTES && inMemory + size <= MEMORY_BUDGET_BYTES) {
            const data = await collect(entry);
            if (named && sha256Digest(data) !== `sha256:${named}`) throw blobMismatch(path, sha256Digest(data));
            inMemory += data.length;
            contents.addFile(path, { data });
          } else {
            const expected = named ? { digest: `sha256:${named}` as const, size } : { size };
            const unpacking = ahead?.begin(expected.digest);
            const stored = await content.ingest(entry, expected, lease, unpacking);
            unpacking?.stored(stored.digest);
            contents.addFile(path, stored);
          }
          break;
        }
        case 'symlink':
          contents.addLink(path, linkTarget(path, posix.join(posix.dirname(path), header.linkname ?? '')));
          break;
        case 'link':
          contents.addLink(path, linkTarget(path, header.linkname ?? ''));
          break;
        case 'directory':
        case 'pax-global-header':
          break;
        default:
          throw invalidParameter(`invalid image archive: entry ${header.name} is a ${header.type ?? 'file of unknown type'}, which has no place in an image archive`);
      }
      entry.resume();
    }
  } catch (err) {
    entries.destroy();
    // The request itself stays: the error is answered on its connection.
    if (source !== input) source?.destroy();
    if (err instanceof Error && !('kind' in err)) throw invalidParameter(`invalid image archive: ${err.message}`, err);
    throw err;
  }
  return contents;
}

/** An entry's name without './' and trailing '/'; refuses absolute names and '..' that climbs out. */
function entryName(name: string): string {
  if (name.startsWith('/')) throw invalidParameter(`invalid image archive: entry ${name} has an absolute path`);
  const normalised = normalise(name);
  if (normalised === '..' || normalised.startsWith('../')) throw invalidParameter(`invalid image archive: entry ${name} leads outside the archive`);
  return normalised;
}

function linkTarget(path: string, target: string): string {
  if (target.startsWith('/')) throw invalidParameter(`invalid image archive: link ${path} points to an absolute path`);
  const normalised = normalise(target);
  if (normalised === '..' || normalised.startsWith('../')) throw invalidParameter(`invalid image archive: link ${path} leads outside the archive`);
  return normalised;
}

function normalise(name: string): string {
  const normalised = posix.normalize(name).replace(/\/+$/, '');
  return normalised === '' ? '.' : normalised;
}

function blobMismatch(path: string, actual: string) {
  return invalidParameter(`invalid image archive: ${path} does not hold the blob its name says (its digest is ${actual})`);
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
