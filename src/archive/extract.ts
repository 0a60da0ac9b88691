import { spawn } from 'node:child_process';
import { fstatSync, ReadStream } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, invalidParameter, wrap } from '../common/errors.js';
import { helperFailure } from './helper-process.js';
import type { WhiteoutMode } from './whiteouts.js';
import { helperEnv } from './helper-env.js';

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
  const file = unreadFile(tar);
  const helper = spawn(process.execPath, [HELPER, destDir, options.whiteouts], { stdio: [file?.fd ?? 'pipe', 'ignore', 'pipe'], env: helperEnv() });
  const stderr: Buffer[] = [];
  helper.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  // Settled from the start: a helper that cannot be spawned ('error') must not be an unhandled
  // rejection while the feed below is awaited.
  const exited = (once(helper, 'close') as Promise<[number | null, NodeJS.Signals | null]>).then(
    ([status, signal]) => ({ status, signal, spawnError: undefined }),
    (spawnError: Error) => ({ status: null, signal: null, spawnError }),
  );

  let size = 0;
  let feedError: unknown;
  if (file) {
    // The helper has its own copy of the descriptor; the blob does not change, so its size is what it reads.
    size = file.size;
    tar.destroy();
  } else {
    tar.on('data', (chunk: Buffer) => (size += chunk.length));
    // A source error closes the helper's stdin; the helper then fails on the truncated tar.
    feedError = await pipeline(tar, helper.stdin!).then(
      () => undefined,
      (err: unknown) => err,
    );
  }
  const { status, signal, spawnError } = await exited;

  const context = `extracting layer into ${destDir}`;
  if (spawnError !== undefined) throw wrap(spawnError, `${context}: starting the extract helper`);
  if (status !== 0) {
    const failure = helperFailure(Buffer.concat(stderr).toString('utf8'), status, signal);
    const kind = failure.code !== undefined && STORAGE_ERRORS.has(failure.code) ? 'internal' : 'invalid-parameter';
    throw new BerthError(kind, `${context}: ${failure.message}`);
  }
  if (feedError !== undefined) throw invalidParameter(`${context}: reading the layer: ${(feedError as Error).message}`, feedError);
  return { size };
}

/**
 * A whole file opened for this read (a blob of the content store) that nothing has read from yet:
 * it becomes the helper's stdin, so the kernel feeds the helper and the daemon moves no byte of it.
 * Anything else (a socket, a decompressor, a file read from an offset) is piped by the daemon.
 */
function unreadFile(tar: Readable): { fd: number; size: number } | undefined {
  if (!(tar instanceof ReadStream) || tar.pending || tar.bytesRead > 0 || tar.readableFlowing !== null) return undefined;
  // Typed only in part: `fd` is the descriptor once open, `start`/`end` the range asked for.
  const { fd, start, end } = tar as ReadStream & { fd?: unknown; start?: number; end?: number };
  if (typeof fd !== 'number' || (start ?? 0) !== 0 || (end !== undefined && end !== Infinity)) return undefined;
  // The helper reads from the descriptor's own position: the start, as nothing has read from it.
  const stats = fstatSync(fd);
  return stats.isFile() ? { fd, size: stats.size } : undefined;
}
