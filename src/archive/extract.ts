import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, invalidParameter } from '../common/errors.js';
import { helperFailure } from './helper-process.js';
import type { WhiteoutMode } from './whiteouts.js';

const HELPER = fileURLToPath(new URL('./extract-helper.js', import.meta.url));

// Failures of the disk rather than of the tar: not the caller's fault.
const STORAGE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);

/**
 * Unpacks an uncompressed layer tar into `destDir` (callers decompress once, see decompress.ts). Paths are never resolved in this
 * process: a helper process chroots into `destDir` and writes the entries there (see
 * extract-helper.ts), so no name, '..' or symlink in the tar can reach outside it.
 * Resolves with the number of tar bytes read.
 */
export async function extractTar(
  tar: Readable,
  destDir: string,
  options: { whiteouts: WhiteoutMode },
): Promise<{ size: number }> {
  const helper = spawn(process.execPath, [HELPER, destDir, options.whiteouts], { stdio: ['pipe', 'ignore', 'pipe'] });
  const stderr: Buffer[] = [];
  helper.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = once(helper, 'close') as Promise<[number | null, NodeJS.Signals | null]>;

  let size = 0;
  tar.on('data', (chunk: Buffer) => (size += chunk.length));
  // A source error closes the helper's stdin; the helper then fails on the truncated tar.
  const feedError = await pipeline(tar, helper.stdin).then(
    () => undefined,
    (err: unknown) => err,
  );
  const [status, signal] = await exited;

  const context = `extracting layer into ${destDir}`;
  if (status !== 0) {
    const failure = helperFailure(Buffer.concat(stderr).toString('utf8'), status, signal);
    const kind = failure.code !== undefined && STORAGE_ERRORS.has(failure.code) ? 'internal' : 'invalid-parameter';
    throw new BerthError(kind, `${context}: ${failure.message}`);
  }
  if (feedError !== undefined) throw invalidParameter(`${context}: reading the layer: ${(feedError as Error).message}`, feedError);
  return { size };
}
