/**
 * `ADD <url>` as the classic builder does it (moby builder/dockerfile copy.go downloadSource):
 * the file is fetched into a scratch directory of the build, named after the URL's last path
 * element (or the response's Content-Disposition filename), mode 0600, its mtime the response's
 * Last-Modified or else the Unix epoch (so that an unchanged download hits the cache), and never
 * unpacked. The body is streamed to disk.
 */
import { createWriteStream } from 'node:fs';
import { chmod, utimes } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { invalidParameter, wrap } from '../../common/errors.js';
import type { CopySource } from './copy-sources.js';
import { pathHash } from './file-hash.js';

/** Bytes of an error response's body quoted in the error. */
const ERROR_BODY_BYTES = 1024;

/** Downloads `url` into `dir` (a scratch directory of the build); the source to copy from it. */
export async function downloadSource(url: string, dir: string, signal: AbortSignal): Promise<CopySource> {
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (err) {
    throw invalidParameter(`ADD failed: fetching ${url}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`, err);
  }
  if (!response.ok) {
    throw invalidParameter(`failed to GET ${url} with status ${response.status} ${response.statusText}: ${await bodyStart(response)}`);
  }
  const name = downloadName(url, response.headers.get('content-disposition'));
  if (name === undefined) throw invalidParameter(`ADD failed: cannot determine a file name for ${url}`);
  const path = join(dir, name);
  try {
    const body = response.body ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>) : Readable.from([]);
    await pipeline(body, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    await chmod(path, 0o600);
    const lastModified = Date.parse(response.headers.get('last-modified') ?? '');
    const mtime = Number.isNaN(lastModified) ? new Date(0) : new Date(lastModified);
    await utimes(path, mtime, mtime);
  } catch (err) {
    throw wrap(err, `ADD failed: downloading ${url}`);
  }
  return { path: name, hash: await pathHash(dir, name), root: dir, downloaded: true };
}

/** The first ERROR_BODY_BYTES of an error response's body: the rest is never read (it may be anything, of any size). */
async function bodyStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)) {
      chunks.push(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      if (bytes >= ERROR_BODY_BYTES) break;
    }
  } catch {
    // A body cut short says what it managed to.
  }
  return Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8');
}

/** moby's getFilenameForDownload: the URL path's last element, else Content-Disposition's filename. */
function downloadName(url: string, contentDisposition: string | null): string | undefined {
  const path = decodeURIComponent(new URL(url).pathname);
  const fromPath = path !== '' && !path.endsWith('/') ? posix.basename(path) : '';
  if (fromPath !== '') return fromPath;
  const filename = /(?:^|;)\s*filename\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentDisposition ?? '');
  const given = filename?.[1] ?? filename?.[2] ?? '';
  const base = given !== '' && !given.endsWith('/') ? posix.basename(given) : '';
  return base === '' || base === '.' || base === '..' ? undefined : base;
}
