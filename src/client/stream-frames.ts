/**
 * Docker's multiplexed stream, used for attach and logs when the container has no TTY: each frame
 * is an 8-byte header [stream, 0, 0, 0, length as uint32 big-endian] followed by the payload.
 */
import { Writable } from 'node:stream';

export enum StreamType {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  /** The daemon reports an error in the middle of the stream (Docker's `Systemerr`). */
  SystemError = 3,
}

export interface Frame {
  stream: StreamType;
  payload: Buffer;
}

const HEADER_LENGTH = 8;

/** Cuts a byte stream into frames; chunks may split headers and payloads anywhere. */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER_LENGTH) {
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_LENGTH + length) break;
      frames.push({
        stream: this.pending[0] as StreamType,
        payload: this.pending.subarray(HEADER_LENGTH, HEADER_LENGTH + length),
      });
      this.pending = this.pending.subarray(HEADER_LENGTH + length);
    }
    return frames;
  }

  /** Bytes of an unfinished frame; non-zero at end of stream means the stream was cut short. */
  get bufferedLength(): number {
    return this.pending.length;
  }
}

/** Encodes one frame; the daemon side of the protocol, and what tests use to play the daemon. */
export function encodeFrame(stream: StreamType, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER_LENGTH);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/**
 * A sink that demultiplexes frames into stdout and stderr, honouring their backpressure. As in the
 * docker CLI, stdin frames go to stdout and a system-error frame fails the stream with its text.
 * Ending the sink leaves stdout and stderr open.
 */
export class FrameDemuxer extends Writable {
  private readonly parser = new FrameParser();

  constructor(
    private readonly stdout: NodeJS.WritableStream,
    private readonly stderr: NodeJS.WritableStream,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const writes: Promise<void>[] = [];
    for (const frame of this.parser.push(chunk)) {
      if (frame.stream === StreamType.SystemError) {
        callback(new Error(frame.payload.toString()));
        return;
      }
      writes.push(writeRespectingDrain(frame.stream === StreamType.Stderr ? this.stderr : this.stdout, frame.payload));
    }
    Promise.all(writes).then(() => callback(), callback);
  }
}

/** Forwards a TTY's raw stream to stdout; ending it leaves stdout open. */
class RawForwarder extends Writable {
  constructor(private readonly stdout: NodeJS.WritableStream) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    writeRespectingDrain(this.stdout, chunk).then(() => callback(), callback);
  }
}

/** Where a container's output (attach or logs) goes: raw with a TTY, demultiplexed without. */
export function containerOutputSink(
  tty: boolean,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Writable {
  return tty ? new RawForwarder(stdout) : new FrameDemuxer(stdout, stderr);
}

function writeRespectingDrain(target: NodeJS.WritableStream, chunk: Buffer): Promise<void> {
  if (target.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => target.once('drain', resolve));
}
