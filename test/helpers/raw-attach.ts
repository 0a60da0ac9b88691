import { connect, type Socket } from 'node:net';

/**
 * A raw HTTP/1.1 client for attach, as docker-py and dockerode talk to dockerd: the request is
 * written by hand (with or without `Upgrade: tcp`) and everything after the response head is the
 * stream, read until the daemon closes the connection.
 */
export interface RawAttach {
  socket: Socket;
  /** Status line and headers, once they arrived. */
  head: Promise<{ status: number; headers: Record<string, string> }>;
  /** Every byte after the head, until the connection closes. */
  body: Promise<Buffer>;
  /** Bytes of the body so far. */
  received(): Buffer;
}

export function rawAttach(socketPath: string, path: string, options: { upgrade?: boolean; body?: 'chunked' | { json: string } } = {}): RawAttach {
  const socket = connect(socketPath);
  const headers = ['Host: docker', 'Content-Type: text/plain'];
  if (options.upgrade) headers.push('Connection: Upgrade', 'Upgrade: tcp');
  const json = typeof options.body === 'object' ? options.body.json : '';
  if (options.body === 'chunked') headers.push('Transfer-Encoding: chunked');
  else headers.push(`Content-Length: ${Buffer.byteLength(json)}`);
  socket.write(`POST ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n${json}`);
  let buffer = Buffer.alloc(0);
  let headEnd = -1;
  let resolveHead!: (head: { status: number; headers: Record<string, string> }) => void;
  const head = new Promise<{ status: number; headers: Record<string, string> }>((r) => (resolveHead = r));
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (headEnd < 0 && (headEnd = buffer.indexOf('\r\n\r\n')) >= 0) {
      const [statusLine, ...lines] = buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
      const fields = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolveHead({ status: Number(statusLine.split(' ')[1]), headers: fields });
    }
  });
  const body = new Promise<Buffer>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => resolve(headEnd < 0 ? Buffer.alloc(0) : buffer.subarray(headEnd + 4)));
  });
  return { socket, head, body, received: () => (headEnd < 0 ? Buffer.alloc(0) : buffer.subarray(headEnd + 4)) };
}

/** Writes one chunk of a chunked request body (an empty one ends the body). */
export function writeChunk(socket: Socket, data: string): void {
  socket.write(`${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`);
}

/** Docker's multiplexed frames → [stream, text] pairs. */
export function demux(stream: Buffer): Array<[number, string]> {
  const frames: Array<[number, string]> = [];
  for (let at = 0; at + 8 <= stream.length; ) {
    const length = stream.readUInt32BE(at + 4);
    frames.push([stream[at], stream.subarray(at + 8, at + 8 + length).toString()]);
    at += 8 + length;
  }
  return frames;
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) {
    if (await check()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}
