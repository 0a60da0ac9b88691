import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { setPipeSize } from '../native/index.js';

/** What a helper's data pipe holds: the tar streams through it in turns this big. */
export const HELPER_PIPE_BYTES = 1024 * 1024;

/**
 * Widens the pipe on `fd` (the helper's stdin or stdout) to HELPER_PIPE_BYTES, so the daemon and
 * the helper hand over a megabyte per turn instead of 64 KiB. Not a pipe (a file given as stdin
 * in a manual run), or no room left in the user's pipe budget: the pipe stays as it is.
 */
export function widenPipe(fd: number): void {
  try {
    setPipeSize(fd, HELPER_PIPE_BYTES);
  } catch {
    // EBADF/EINVAL on a non-pipe, EPERM past the budget: only slower.
  }
}

/**
 * The helper's stdin, read a pipe's worth at a time: process.stdin reads 64 KiB per turn, and
 * every turn costs a trip through tar-stream and the unpacker's awaits. Blocking reads from the
 * thread pool are fine in a process that does nothing else (the child's stdin is blocking).
 */
export function helperInput(): Readable {
  return createReadStream('', { fd: 0, highWaterMark: HELPER_PIPE_BYTES, autoClose: false });
}

/**
 * The protocol of the confined helper processes (extract-helper.ts, pack-helper.ts): on failure
 * a helper writes one JSON line {message, code} to stderr and exits with status 1.
 */
export interface HelperFailure {
  message: string;
  code?: string;
}

/** Runs a helper's `main`, reporting its failure in the protocol's form. */
export async function runHelper(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    const failure = err as NodeJS.ErrnoException;
    process.stderr.write(`${JSON.stringify({ message: failure.message ?? String(err), code: failure.code })}\n`);
    process.exitCode = 1;
  }
}

/** The failure a helper reported, or what is known when it died before it could. */
export function helperFailure(stderr: string, status: number | null, signal: string | null): HelperFailure {
  try {
    return JSON.parse(stderr) as HelperFailure;
  } catch {
    return { message: `helper exited with ${signal ?? `status ${status}`}: ${stderr.trim()}` };
  }
}
