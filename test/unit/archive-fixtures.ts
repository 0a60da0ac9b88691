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
