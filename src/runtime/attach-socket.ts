/**
 * A client of conmon's attach socket (BUNDLE/attach, SOCK_SEQPACKET; notes §4). conmon sends one
 * message per read of the container's output: a stream byte (2 stdout, 3 stderr) and up to 8 KiB.
 * Stdin goes the other way as raw messages of at most 32 KiB.
 *
 * conmon blocks while a client's socket is full, which would stall the container and its log,
 * so this client never pauses: every message is emitted as it arrives. Buffering for slow
 * consumers is the consumer's business.
 */
import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SeqpacketSocket } from 'node-unix-socket';
import { BerthError, errnoCode, notFound } from '../common/errors.js';
import type { AttachConnection, StdStream } from './container-runtime.js';

export type AttachStream = StdStream;

const STREAM_BY_BYTE: Readonly<Record<number, AttachStream>> = { 2: 'stdout', 3: 'stderr' };

// A larger message loses its tail (verified with conmon 2.1.6).
const MAX_STDIN_MESSAGE = 32768;

// Node's fs.constants lacks O_PATH.
const O_PATH = 0o10000000;

export interface AttachSocket {
  on(event: 'data', listener: (stream: AttachStream, chunk: Buffer) => void): this;
  on(event: 'end', listener: () => void): this;
  /** Resolves once the socket has taken the data: a container that reads no stdin holds it. */
  write(stdin: Buffer): Promise<void>;
  /** Half-closes: the container reads EOF on stdin; output keeps flowing. */
  closeStdin(): void;
  close(): void;
}

class ConmonAttachSocket extends EventEmitter implements AttachSocket {
  private ended = false;
  private closed = false;
  /** Writes not yet taken by the socket; released at the end so no caller waits forever. */
  private readonly pendingWrites = new Set<() => void>();

  constructor(private readonly socket: SeqpacketSocket) {
    super();
    socket.on('data', (message: Buffer) => {
      const stream = STREAM_BY_BYTE[message[0]];
      if (stream && message.length > 1) this.emit('data', stream, message.subarray(1));
    });
    // conmon closes the socket when the container exits; a reset means the same here.
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
  }

  private finish(): void {
    for (const release of this.pendingWrites) release();
    this.pendingWrites.clear();
    if (this.ended) return;
    this.ended = true;
    this.emit('end');
  }

  write(stdin: Buffer): Promise<void> {
    if (this.closed || this.ended) return Promise.resolve();
    let written: Promise<void> = Promise.resolve();
    for (let offset = 0; offset < stdin.length; offset += MAX_STDIN_MESSAGE) {
      const message = stdin.subarray(offset, offset + MAX_STDIN_MESSAGE);
      written = new Promise((resolve) => {
        const release = () => {
          this.pendingWrites.delete(release);
          resolve();
        };
        this.pendingWrites.add(release);
        this.socket.write(message, 0, message.length, release);
      });
    }
    return written;
  }

  closeStdin(): void {
    if (!this.closed) this.socket.end();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.finish();
  }
}

/**
 * Connects to a created or running container's attach socket. Connect before `start` to get all
 * output: conmon does not replay what was sent while no client was connected.
 */
export async function connectAttach(bundleDir: string): Promise<AttachSocket> {
  const path = join(bundleDir, 'attach');
  let fd: number;
  try {
    // The bundle path can exceed sun_path's 108 bytes; /proc/self/fd/N never does.
    fd = openSync(path, O_PATH);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound(`no attach socket for the container (${path}): is it running?`);
    throw err;
  }
  const socket = new SeqpacketSocket();
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(`/proc/self/fd/${fd}`, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    socket.destroy();
    throw new BerthError('unavailable', `connecting to the attach socket ${path}`, { cause: err });
  } finally {
    closeSync(fd);
  }
  return new ConmonAttachSocket(socket);
}

/**
 * The socket as ContainerRuntime's AttachConnection: output as an async iterable (filled as
 * conmon sends, never paused: see above), stdin as a Writable whose writes complete when the
 * socket has taken them, and whose end half-closes.
 */
export function attachConnection(socket: AttachSocket): AttachConnection {
  const queue: Array<{ stream: StdStream; data: Buffer }> = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    wake?.();
    wake = undefined;
  };
  socket.on('data', (stream, data) => {
    queue.push({ stream, data });
    signal();
  });
  socket.on('end', () => {
    ended = true;
    signal();
  });
  async function* output(): AsyncGenerator<{ stream: StdStream; data: Buffer }> {
    for (;;) {
      const next = queue.shift();
      if (next) yield next;
      else if (ended) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  const stdin = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      socket.closeStdin();
      callback();
    },
  });
  return {
    output: output(),
    stdin,
    close: () => {
      socket.close();
      stdin.destroy();
    },
  };
}
