/** Builds tars for the archive and storage tests with tar-stream's pack. */
import { gzipSync } from 'node:zlib';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack, type Headers } from 'tar-stream';

export type TarEntry = Omit<Headers, 'name'> & { name: string; content?: string | Buffer; pax?: Record<string, string> };

export async function buildTar(entries: TarEntry[], options: { gzip?: boolean } = {}): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve, reject) => archive.on('end', resolve).on('error', reject));
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      archive.entry({ mode: header.type === 'directory' ? 0o755 : 0o644, ...header }, content ?? '', (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }
  archive.finalize();
  await ended;
  const tar = Buffer.concat(chunks);
  return options.gzip ? gzipSync(tar) : tar;
}

export function streamOf(buffer: Buffer): Readable {
  return Readable.from([buffer], { objectMode: false });
}

/** A temp dir under /tmp that `t.after` (or `after`) removes even when the test fails. */
export async function tempDir(hooks: { after(fn: () => Promise<void>): void }, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `berth-${prefix}-`));
  hooks.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The names of a tar's entries as their bytes, one character a byte (latin1): a PAX `path` record
 * takes the place of the header's name, as every reader takes it (tar-stream would decode the
 * record as UTF-8, turning bytes that are not into U+FFFD).
 */
export function tarNamesAsBytes(tar: Buffer): string[] {
  const names: string[] = [];
  let paxPath: string | undefined;
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number) => header.subarray(start, start + length).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156]!);
    const data = tar.subarray(offset + 512, offset + 512 + size);
    if (type === 'x') {
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('latin1'))?.[1];
    } else if (type !== 'g') {
      const prefix = field(345, 155);
      names.push(paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100)));
      paxPath = undefined;
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}
