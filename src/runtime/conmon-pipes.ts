/**
 * The pipes berthd shares with a conmon it launches (notes §1, §6): the start pipe (a byte lets
 * conmon go on), the sync pipe (one JSON line per event: the pid, then for an exec its exit
 * status) and, for an exec, the attach pipe (a line once the attach socket is ready).
 */
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { BerthError } from '../common/errors.js';
import { spawnDetached, waitExit } from '../native/index.js';

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

/** conmon's environment: the fds of its sync and start pipes. */
export function conmonEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', ...extra };
}

/** A conmon just started: its pipes (its fds 2, 3, …) and the exit of this first process. */
export interface ConmonChild {
  pipes: Socket[];
  /** The exit code of the first conmon (it forks the monitor and leaves at once); null after a signal. */
  exited: Promise<number | null>;
  /** Destroys the pipes. */
  closePipes(): void;
}

/**
 * Starts conmon in its own session with `pipes` pipes as its fds 2, 3, … (stderr, the sync pipe,
 * the start pipe, …), through the native posix_spawn: child_process.spawn forks the daemon, which
 * holds the event loop 3–5 ms per container start (its page tables copied, then waiting for the
 * exec). A conmon that dies resets its pipes (ECONNRESET, EPIPE), which as an unhandled 'error'
 * event would end the daemon; what went wrong is learnt from the sync pipe and conmon's exit instead.
 */
export function spawnConmon(conmonPath: string, args: string[], cwd: string, env: Record<string, string>, pipes: number): ConmonChild {
  const child = spawnDetached(conmonPath, args, env, cwd, pipes);
  const streams = child.fds.map((fd) => new Socket({ fd, readable: true, writable: true }).on('error', () => {}));
  return {
    pipes: streams,
    exited: waitExit(child.pid),
    closePipes: () => streams.forEach((stream) => stream.destroy()),
  };
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

/** Resolves at EOF: the daemonized conmon holds the sync pipe until it exits. */
export function pipeClosed(pipe: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (pipe.readableEnded || pipe.destroyed) resolve();
    else pipe.once('close', resolve).resume();
  });
}
