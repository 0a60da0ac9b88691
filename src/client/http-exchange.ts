/**
 * One HTTP/1.1 exchange on its own connection (a unix socket, or TCP): the request goes out, the
 * response head is parsed, the body is decoded (Content-Length, chunked, or up to the close) into
 * a stream.
 *
 * Why not node:http: loading it costs a CLI call more than ten milliseconds, and it cannot be part of
 * the CLI's startup snapshot; node:net can. A CLI call makes a handful of requests, so a connection
 * per request (Connection: close) costs nothing that matters and needs no pool; the daemon is
 * berthd or dockerd, whose answers are plain HTTP/1.1.
 */
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { DaemonAddress } from './socket-address.js';

export interface ExchangeRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: Record<string, string>;
  /** A whole body (sent with Content-Length) or a stream (sent chunked). */
  body?: string | Readable;
}

/** A response body as a stream, with the status and the headers (names in lower case). */
export class HttpResponse extends Readable {
  constructor(
    readonly statusCode: number,
    readonly headers: Readonly<Record<string, string>>,
    private readonly socket: Socket,
  ) {
    super();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.socket.destroy();
    callback(err);
  }
}

export type ExchangeResult =
  | { kind: 'response'; response: HttpResponse }
  /** A 101 answer: the connection now carries the raw stream, starting with `socket`'s data. */
  | { kind: 'upgraded'; socket: Socket };

const HEAD_END = '\r\n\r\n';
/** Bounds a response head, so a peer that is not an HTTP server cannot grow it without end. */
const MAX_HEAD_BYTES = 64 * 1024;

/** Sends the request; resolves once the response head has arrived. */
export function exchange(address: DaemonAddress, request: ExchangeRequest, track: (socket: Socket) => void): Promise<ExchangeResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(address);
    track(socket);
    let head: Buffer = Buffer.alloc(0);
    const onHeadData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end === -1) {
        if (head.length > MAX_HEAD_BYTES) fail(new Error('the daemon sent a response head larger than 64 KiB'));
        return;
      }
      socket.off('data', onHeadData);
      socket.off('error', fail);
      socket.off('end', onEarlyEnd);
      socket.pause();
      const rest = head.subarray(end + HEAD_END.length);
      let parsed: { statusCode: number; headers: Record<string, string> };
      try {
        parsed = parseHead(head.subarray(0, end).toString('latin1'));
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (parsed.statusCode === 101) {
        if (rest.length > 0) socket.unshift(rest);
        resolve({ kind: 'upgraded', socket });
        return;
      }
      const response = new HttpResponse(parsed.statusCode, parsed.headers, socket);
      readBody(socket, response, bodyFraming(request.method, parsed.statusCode, parsed.headers), rest);
      resolve({ kind: 'response', response });
    };
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    const onEarlyEnd = () => fail(new Error('the daemon closed the connection without answering'));
    socket.on('data', onHeadData);
    socket.on('error', fail);
    socket.on('end', onEarlyEnd);
    writeRequest(socket, address, request);
  });
}

function writeRequest(socket: Socket, address: DaemonAddress, request: ExchangeRequest): void {
  // The docker CLI's Host: a name of its own on a unix socket, the address over TCP.
  const host = 'path' in address ? 'api.moby.localhost' : `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  const headers: Record<string, string> = { Host: host, ...request.headers };
  if (typeof request.body === 'string') headers['Content-Length'] = String(Buffer.byteLength(request.body));
  else if (request.body) headers['Transfer-Encoding'] = 'chunked';
  else if (request.method !== 'GET' && request.method !== 'HEAD') headers['Content-Length'] = '0';
  headers.Connection ??= 'close';
  let text = `${request.method} ${request.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  text += '\r\n';
  if (typeof request.body === 'string') text += request.body;
  socket.write(text);
  if (request.body instanceof Readable) void sendChunked(socket, request.body);
}

/** Streams a body with chunked transfer encoding, waiting for the socket to drain as it goes. */
async function sendChunked(socket: Socket, body: Readable): Promise<void> {
  try {
    for await (const chunk of body) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      if (data.length === 0) continue;
      // One writev for the chunk's size line, data and end, rather than three writes.
      socket.cork();
      socket.write(`${data.length.toString(16)}\r\n`);
      socket.write(data);
      const flowing = socket.write('\r\n');
      socket.uncork();
      if (!flowing) await new Promise((resolve) => socket.once('drain', resolve));
    }
    socket.write('0\r\n\r\n');
  } catch (err) {
    socket.destroy(err as Error);
  }
}

function parseHead(text: string): { statusCode: number; headers: Record<string, string> } {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) throw new Error(`the daemon did not answer in HTTP/1.1: "${statusLine.slice(0, 80)}"`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { statusCode: Number(status[1]), headers };
}

type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

/** How the body ends (RFC 9112 §6.3): none, a length, chunked, or the close. */
function bodyFraming(method: string, statusCode: number, headers: Record<string, string>): Framing {
  if (method === 'HEAD' || statusCode === 204 || statusCode === 304 || statusCode < 200) return { kind: 'none' };
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) return { kind: 'chunked' };
  const length = headers['content-length'];
  if (length !== undefined && /^\d+$/.test(length)) return { kind: 'length', length: Number(length) };
  return { kind: 'close' };
}

/** Feeds the decoded body into `response`, pausing the socket whenever the reader falls behind. */
function readBody(socket: Socket, response: HttpResponse, framing: Framing, first: Buffer): void {
  let complete = false;
  const finish = () => {
    complete = true;
    socket.off('data', onData);
    response.push(null);
    socket.destroy();
  };
  const emit = (data: Buffer) => {
    if (data.length > 0 && !response.push(data)) socket.pause();
  };
  const decoder = framing.kind === 'chunked' ? new ChunkedDecoder(emit, finish) : undefined;
  let remaining = framing.kind === 'length' ? framing.length : Infinity;
  const onData = (chunk: Buffer) => {
    if (decoder) {
      try {
        decoder.push(chunk);
      } catch (err) {
        response.destroy(err as Error);
      }
    } else if (framing.kind === 'length') {
      const part = chunk.subarray(0, remaining);
      remaining -= part.length;
      emit(part);
      if (remaining === 0) finish();
    } else {
      emit(chunk);
    }
  };
  socket.on('error', (err) => response.destroy(err));
  socket.on('end', () => {
    if (complete) return;
    if (framing.kind === 'close') finish();
    else response.destroy(new Error('the daemon closed the connection in the middle of a response'));
  });
  if (framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0)) {
    finish();
    return;
  }
  socket.on('data', onData);
  if (first.length > 0) onData(first);
}

/** Decodes chunked transfer encoding (RFC 9112 §7.1) from data split anywhere; ignores extensions and trailers. */
export class ChunkedDecoder {
  private buffered: Buffer = Buffer.alloc(0);
  /** Bytes left in the current chunk's data, then its CRLF; -1 while reading a size line. */
  private left = -1;
  private done = false;

  constructor(
    private readonly onData: (data: Buffer) => void,
    private readonly onEnd: () => void,
  ) {}

  push(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (!this.done && this.buffered.length > 0) {
      if (this.left === -1) {
        const eol = this.buffered.indexOf('\r\n');
        if (eol === -1) return;
        const size = parseInt(this.buffered.subarray(0, eol).toString('latin1'), 16);
        if (Number.isNaN(size)) throw new Error('the daemon sent a malformed chunked body');
        this.buffered = this.buffered.subarray(eol + 2);
        if (size === 0) {
          this.done = true;
          this.onEnd();
          return;
        }
        this.left = size + 2;
      } else {
        const take = Math.min(this.left, this.buffered.length);
        const dataBytes = Math.max(0, Math.min(take, this.left - 2));
        if (dataBytes > 0) this.onData(this.buffered.subarray(0, dataBytes));
        this.buffered = this.buffered.subarray(take);
        this.left -= take;
        if (this.left === 0) this.left = -1;
      }
    }
  }
}
