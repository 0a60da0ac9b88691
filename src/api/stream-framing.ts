import { versionAtLeast } from './version.js';

/** Docker's multiplexed stream framing: [stream, 0, 0, 0, length (uint32 BE)] + payload. */
const STREAM_STDOUT = 1;
const STREAM_STDERR = 2;

export function frame(stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

export function streamNumber(name: 'stdout' | 'stderr'): number {
  return name === 'stdout' ? STREAM_STDOUT : STREAM_STDERR;
}

/** Non-TTY output is labelled multiplexed from API 1.42 on; the docker CLI goes by Tty anyway. */
export function outputContentType(tty: boolean, version: string): string {
  return tty || !versionAtLeast(version, '1.42') ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
}
