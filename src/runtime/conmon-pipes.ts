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

/**
 * Takes charge of a launched conmon's pipes. A conmon that dies resets them (ECONNRESET, EPIPE),
 * which as an unhandled 'error' event would end the daemon; what went wrong is learnt from the
 * sync pipe and conmon's exit instead. The returned function destroys them all.
 */
export function ownPipes(child: ChildProcess): () => void {
  for (const stream of child.stdio) stream?.on('error', () => {});
  return () => child.stdio.forEach((stream) => stream?.destroy());
}

/**
 * Everything a pipe yields until it ends or is closed. Start it at once: a pipe read only after
 * the process died may never report its end.
 */
export function readAll(pipe: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = () => resolve(text);
    pipe.on('data', (chunk: Buffer) => (text += chunk.toString('utf8'))).once('end', done).once('close', done);
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
