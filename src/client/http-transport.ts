/**
 * The Engine API's conventions over the daemon's socket (http-exchange.ts speaks the HTTP/1.1):
 * versioned paths, query encoding, JSON bodies, error answers turned into DaemonError, and the
 * hijacked connections attach uses.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { DaemonError } from './daemon-error.js';
import { exchange, type HttpResponse } from './http-exchange.js';
import type { DaemonAddress } from './socket-address.js';

export const API_VERSION = '1.50';

export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as application/json. */
  json?: unknown;
  /** Streamed as-is with chunked transfer encoding (an image tar for import). */
  body?: Readable;
  headers?: Record<string, string>;
  /** `false` for the few endpoints Docker clients call without a version prefix (`/_ping`). */
  versioned?: boolean;
}

/** Docker's query conventions: booleans are 1 (false is left out), arrays repeat the key. */
export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === false) continue;
    if (value === true) params.append(key, '1');
    else if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  const encoded = params.toString();
  return encoded === '' ? '' : `?${encoded}`;
}

export class HttpTransport {
  /** Connections still open, so close() can end them (an abandoned wait, a hijacked stream). */
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly address: DaemonAddress,
    private readonly customHeaders: Readonly<Record<string, string>> = {},
  ) {}

  /** Resolves once the response headers arrive; a status of 400 or more rejects with DaemonError. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const headers = this.headers(options.headers);
    if (options.json !== undefined) headers['Content-Type'] = 'application/json';
    const result = await exchange(
      this.address,
      { method, path: this.target(path, options), headers, body: options.body ?? (options.json === undefined ? undefined : JSON.stringify(options.json)) },
      this.track,
    );
    if (result.kind === 'upgraded') {
      result.socket.destroy();
      throw new Error(`the daemon switched protocols on ${method} ${path}, which was not asked for`);
    }
    const { response } = result;
    if (response.statusCode >= 400) throw DaemonError.fromBody(response.statusCode, await readText(response));
    return response;
  }

  async json<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return JSON.parse(await readText(await this.request(method, path, options))) as T;
  }

  /** For endpoints answering 200/201/204/304 with nothing the caller needs. */
  async discard(method: string, path: string, options?: RequestOptions): Promise<void> {
    (await this.request(method, path, options)).resume();
  }

  /**
   * Sends an `Upgrade: tcp` request and returns the raw socket of the 101 answer; it belongs to the
   * caller, who must destroy it. A daemon that refuses the upgrade answers with an error instead.
   * `json` is the request's body (exec start sends its options there).
   */
  async hijack(path: string, query: Record<string, QueryValue>, json?: unknown): Promise<Socket> {
    const contentType = json === undefined ? 'text/plain' : 'application/json';
    const headers = { ...this.headers(), 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: 'tcp' };
    const body = json === undefined ? undefined : JSON.stringify(json);
    const result = await exchange(this.address, { method: 'POST', path: this.target(path, { query }), headers, body }, this.track);
    if (result.kind === 'upgraded') return result.socket;
    throw DaemonError.fromBody(result.response.statusCode, await readText(result.response));
  }

  /** Ends the connections still open so the process can exit. */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private readonly track = (socket: Socket) => {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  };

  private headers(extra?: Record<string, string>): Record<string, string> {
    return { 'User-Agent': 'Berth-Client/0.1.0', ...this.customHeaders, ...extra };
  }

  private target(path: string, options: RequestOptions): string {
    const prefix = options.versioned === false ? '' : `/v${API_VERSION}`;
    return `${prefix}${path}${encodeQuery(options.query)}`;
  }
}

export async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
