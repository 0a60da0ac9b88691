/**
 * HTTP/1.1 over the daemon's unix socket: versioned paths, query encoding, JSON bodies, error
 * answers turned into DaemonError, and the hijacked connections attach uses.
 */
import type { Agent, IncomingMessage, RequestOptions as NodeRequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { DaemonError } from './daemon-error.js';

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

/**
 * node:http is loaded at the first request, not when the CLI starts: `berth --version` and `--help`
 * never need it, and it cannot be part of the CLI's startup snapshot (scripts/build-cli.mjs).
 */
const http = () => process.getBuiltinModule('node:http');

export class HttpTransport {
  private agent: Agent | undefined;

  constructor(readonly socketPath: string) {}

  /** Resolves once the response headers arrive; a status of 400 or more rejects with DaemonError. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = http().request(this.requestOptions(method, path, options), resolve);
      request.on('error', reject);
      if (options.body) {
        options.body.on('error', (err) => request.destroy(err));
        options.body.pipe(request);
      } else {
        request.end(options.json === undefined ? undefined : JSON.stringify(options.json));
      }
    });
    if ((response.statusCode ?? 500) >= 400) {
      throw DaemonError.fromBody(response.statusCode ?? 500, await readText(response));
    }
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
   * Sends an `Upgrade: tcp` request and returns the raw socket of the 101 answer. The connection
   * leaves the keep-alive pool: after the upgrade it belongs to the caller, who must destroy it.
   */
  hijack(path: string, query: Record<string, QueryValue>): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const request = http().request({
        ...this.requestOptions('POST', path, { query }),
        agent: false,
        headers: { 'Content-Type': 'text/plain', Connection: 'Upgrade', Upgrade: 'tcp' },
      });
      request.on('error', reject);
      request.on('upgrade', (_response, socket: Socket, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      request.on('response', (response) => {
        // A daemon that refuses the upgrade answers with a normal (error) response instead of 101.
        readText(response).then(
          (body) => reject(DaemonError.fromBody(response.statusCode ?? 500, body)),
          reject,
        );
      });
      request.end();
    });
  }

  /** Closes idle keep-alive connections so the process can exit. */
  close(): void {
    this.agent?.destroy();
  }

  private requestOptions(method: string, path: string, options: RequestOptions): NodeRequestOptions & { servername: string } {
    const prefix = options.versioned === false ? '' : `/v${API_VERSION}`;
    const headers: Record<string, string> = { 'User-Agent': 'Berth-Client/0.1.0', ...options.headers };
    if (options.json !== undefined) headers['Content-Type'] = 'application/json';
    return {
      socketPath: this.socketPath,
      agent: (this.agent ??= new (http().Agent)({ keepAlive: true })),
      // The agent would otherwise work out a TLS server name from the host with net.isIP, whose
      // first call compiles a large IPv6 regular expression: several milliseconds per CLI call for
      // a name a unix socket never uses.
      servername: '',
      method,
      path: `${prefix}${path}${encodeQuery(options.query)}`,
      headers,
    };
  }
}

export async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
