/**
 * Receiving a build context body against the body a kept build root was unpacked from. An
 * unchanged context comes as the same bytes (both the docker CLI and `berth build` keep names,
 * modes and times), so the body is compared with that earlier body as it arrives and nothing is
 * written while they agree: reading the earlier body back (from the page cache, on the thread
 * pool) and comparing is cheaper than hashing the bytes and writing them out, which is what a
 * fully cached build spent most of its time on. From the first chunk that differs (or with no
 * earlier body) the body is spooled to a file, the agreeing prefix copied from the earlier body
 * first, so the spool always holds the whole body for the extractor.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** How much of the earlier body is read at a time, and how much of the body is written at once. */
const BLOCK = 1024 * 1024;

/** The earlier body, read in blocks as the comparison needs them. */
class EarlierBody {
  private readonly block = Buffer.allocUnsafe(BLOCK);
  private length = 0;
  private at = 0;
  /** Where the current block starts in the file. */
  private offset = 0;
  /** Bytes of the earlier body that whole chunks of the body agreed with. */
  private agreed = 0;

  private constructor(private readonly file: FileHandle) {}

  /** Undefined when the earlier body cannot be read: the body is then spooled as with none. */
  static async open(path: string): Promise<EarlierBody | undefined> {
    const file = await open(path, 'r').catch(() => undefined);
    return file && new EarlierBody(file);
  }

  /** Whether `chunk` is what comes next in the earlier body. After a false, only copyAgreed and close are left. */
  async matches(chunk: Buffer): Promise<boolean> {
    for (let done = 0; done < chunk.length; ) {
      if (this.at === this.length && !(await this.readBlock())) return false;
      const n = Math.min(chunk.length - done, this.length - this.at);
      if (chunk.compare(this.block, this.at, this.at + n, done, done + n) !== 0) return false;
      done += n;
      this.at += n;
    }
    this.agreed += chunk.length;
    return true;
  }

  /** Whether the earlier body ends where the body did. */
  async atEnd(): Promise<boolean> {
    return this.at === this.length && !(await this.readBlock());
  }

  /** Copies the agreed prefix into `spool`. */
  async copyAgreed(spool: FileHandle): Promise<void> {
    for (let position = 0; position < this.agreed; ) {
      const { bytesRead } = await this.file.read(this.block, 0, Math.min(BLOCK, this.agreed - position), position);
      if (bytesRead === 0) throw new Error('the kept build context shrank while it was read');
      await writeAll(spool, [this.block.subarray(0, bytesRead)]);
      position += bytesRead;
    }
  }

  close(): Promise<void> {
    return this.file.close();
  }

  private async readBlock(): Promise<boolean> {
    this.offset += this.length;
    this.at = 0;
    const { bytesRead } = await this.file.read(this.block, 0, BLOCK, this.offset);
    this.length = bytesRead;
    return bytesRead > 0;
  }
}

/** Appends every byte of `buffers` (libuv writes them all unless the disk fails; a short write is an error). */
async function writeAll(file: FileHandle, buffers: Buffer[]): Promise<void> {
  const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
  const { bytesWritten } = await file.writev(buffers);
  if (bytesWritten !== total) throw new Error(`short write to the build context spool (${bytesWritten} of ${total} bytes)`);
}

/** The body's chunks written to the spool in batches of about BLOCK bytes, one write in flight. */
class SpoolWriter {
  private batch: Buffer[] = [];
  private size = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: FileHandle) {}

  async add(chunk: Buffer): Promise<void> {
    this.batch.push(chunk);
    this.size += chunk.length;
    if (this.size >= BLOCK) await this.send();
  }

  async finish(): Promise<void> {
    if (this.size > 0) await this.send();
    await this.writing;
  }

  private async send(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.size = 0;
    await this.writing;
    this.writing = writeAll(this.file, batch);
    // Awaited by the next send or finish; until then a failure must not count as unhandled.
    this.writing.catch(() => undefined);
  }
}

/**
 * Reads `body` to its end. Resolves true when it is byte for byte the file `earlier` (nothing is
 * written then); otherwise the body is in the new file `spool` and it resolves false. The spool
 * is removed when receiving fails.
 */
export async function receiveContext(body: Readable, earlier: string | undefined, spool: string): Promise<boolean> {
  const previous = earlier === undefined ? undefined : await EarlierBody.open(earlier);
  let writer: SpoolWriter | undefined;
  const startSpool = async () => {
    writer = new SpoolWriter(await open(spool, 'w', 0o600));
    if (previous) await previous.copyAgreed(writer.file);
    return writer;
  };
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (!writer && previous && (await previous.matches(chunk))) continue;
      await (writer ?? (await startSpool())).add(chunk);
    }
    if (!writer) {
      if (previous && (await previous.atEnd())) return true;
      // The body was a prefix of the earlier one, or there was neither.
      await startSpool();
    }
    await writer!.finish();
    return false;
  } catch (err) {
    if (writer) await rm(spool, { force: true });
    throw err;
  } finally {
    await writer?.file.close();
    await previous?.close();
  }
}
