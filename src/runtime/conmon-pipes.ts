/**
 * The pipes berthd shares with a conmon it launches (notes §1, §6): the start pipe (a byte lets
 * conmon go on), the sync pipe (one JSON line per event: the pid, then for an exec its exit
 * status) and, for an exec, the attach pipe (a line once the attach socket is ready).
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { BerthError } from '../common/errors.js';

/** `{"data": N}` (a pid, 0, or an exit status) or `{"data": -1, "message": "…"}`. */
export interface SyncMessage {
  data: number;
  message?: string;
}

/**
 * Reads JSON lines from a conmon pipe. `next` resolves with the next message, or undefined at
 * EOF (conmon died before it could report). The daemonized conmon keeps the pipe open while it
 * monitors, so a message is read up to its newline, never to EOF.
 */
export function syncMessages(pipe: Readable): { next(): Promise<SyncMessage | undefined> } {
  const lines = createInterface({ input: pipe, crlfDelay: Infinity })[Symbol.asyncIterator]();
  return {
    async next() {
      const line = await lines.next();
      if (line.done) return undefined;
      try {
        return JSON.parse(line.value) as SyncMessage;
      } catch (err) {
        throw new BerthError('internal', `conmon sent an unreadable sync message: ${line.value}`, { cause: err });
      }
    },
  };
}

/** Everything a pipe yields until EOF. */
export function readAll(pipe: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    pipe.on('data', (chunk: Buffer) => (text += chunk.toString('utf8'))).once('end', () => resolve(text)).once('error', reject);
  });
}

/** The exit of the first conmon (it forks the monitor and leaves at once). */
export function processExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once('error', reject).once('exit', (code) => resolve(code));
  });
}

/** Resolves at EOF: the daemonized conmon holds the sync pipe until it exits. */
export function pipeClosed(pipe: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (pipe.readableEnded || pipe.destroyed) resolve();
    else pipe.once('close', resolve).resume();
  });
}
