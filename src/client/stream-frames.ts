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
    let drained: Promise<void> = Promise.resolve();
    for (const frame of this.parser.push(chunk)) {
      if (frame.stream === StreamType.SystemError) {
        callback(new Error(frame.payload.toString()));
        return;
      }
      const target = frame.stream === StreamType.Stderr ? this.stderr : this.stdout;
      if (!target.write(frame.payload)) drained = new Promise((resolve) => target.once('drain', resolve));
    }
    drained.then(() => callback(), callback);
  }
}
