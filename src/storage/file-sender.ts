/**
 * Writes a file into a Writable (an upload's request) through a few buffers it reuses. A read
 * stream allocates a fresh 1 MiB buffer per chunk: for a 100 MiB push that is 100 MiB of new
 * memory the kernel must fault in and zero and V8 must collect (about a third of berthd's CPU
 * per push, measured with a CPU profile). Here each buffer is filled again only once `target`
 * has called back for its write, i.e. the socket has taken its bytes, so no byte is overwritten
 * while it still waits to go out; the buffers in flight also bound what is held in memory.
 */
import { read } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { BerthError } from '../common/errors.js';

const CHUNK = 1024 * 1024;
/** One buffer being read while up to two are with the socket. */
const BUFFERS = 3;

function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, 0, length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))));
}

/**
 * Writes the first `size` bytes of `file` into `target`, then ends it. `onWritten` hears the
 * total written so far after each write completes. Fails when the file is shorter than `size`,
 * when a write fails, or when `target` closes first (a request destroyed or answered early).
 */
export async function sendFile(file: FileHandle, size: number, target: Writable, onWritten?: (total: number) => void): Promise<void> {
  const length = Math.max(1, Math.min(CHUNK, size));
  const free = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafeSlow(length));
  let written = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const settle = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  /** Until `ready()` holds or the sending has failed; then throws the failure. */
  const until = async (ready: () => boolean) => {
    while (!failure && !ready()) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
  };
  const onClose = () => {
    if (written < size) failure ??= new BerthError('unavailable', `the request closed after ${written} of ${size} bytes`);
    settle();
  };
  target.once('close', onClose);
  try {
    for (let position = 0; position < size; ) {
      await until(() => free.length > 0);
      const buffer = free.pop()!;
      const bytes = await readAt(file.fd, buffer, Math.min(buffer.length, size - position), position);
      if (bytes === 0) throw new BerthError('internal', `the file ended after ${position} of its ${size} bytes`);
      if (failure) throw failure;
      position += bytes;
      target.write(buffer.subarray(0, bytes), (err) => {
        if (err) failure ??= err;
        else onWritten?.((written += bytes));
        free.push(buffer);
        settle();
      });
    }
    target.end();
    await until(() => free.length === BUFFERS);
  } finally {
    target.off('close', onClose);
  }
}
