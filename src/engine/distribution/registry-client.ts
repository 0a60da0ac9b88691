/**
 * The HTTP side of the registry protocol for one repository on one registry: manifests, blobs
 * (ranges for resuming, redirects followed), uploads (HEAD check, cross-repository mount, one
 * streamed PUT) and the /v2/ login check. Authorisation is answered on a 401 and then reused;
 * HTTPS is tried before plain HTTP where the registry is insecure, and the first endpoint that
 * answers is kept for the rest of the operation.
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable, Writable } from 'node:stream';
import { BerthError, unavailable } from '../../common/errors.js';
import type { Digest } from '../../storage/digest.js';
import { RegistryAuth, repositoryScope, type Credentials } from './registry-auth.js';
import { registryError, transportError } from './registry-errors.js';
import type { Endpoint, TlsFiles } from './registry-hosts.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from './manifest.js';
import { bodyHandOff, stopBodyForHandOff, type BodyHandOff } from './response-hand-off.js';

export interface TransportOptions {
  /** A request whose connection is idle this long (a registry stalling mid-blob) fails. */
  stallTimeoutMs: number;
}

/** Keep-alive agents per endpoint and TLS setting, owned by the distribution service. */
export class RegistryAgents {
  private readonly agents = new Map<string, http.Agent>();

  agent(url: URL, tls: (TlsFiles & { insecureSkipVerify?: boolean }) | undefined): http.Agent {
    // certs.d may change while berthd runs: an agent per content of the TLS files, not per host only.
    const files = createHash('sha256').update(JSON.stringify([tls?.ca?.length ?? 0, tls?.ca?.slice(-4), tls?.cert, tls?.key])).digest('hex');
    const key = `${url.protocol}//${url.host}|${tls?.insecureSkipVerify ? 'skip' : ''}|${files}`;
    let agent = this.agents.get(key);
    if (!agent) {
      agent =
        url.protocol === 'https:'
          ? new https.Agent({ keepAlive: true, maxSockets: 16, ca: tls?.ca, cert: tls?.cert, key: tls?.key, rejectUnauthorized: !tls?.insecureSkipVerify })
          : new http.Agent({ keepAlive: true, maxSockets: 16 });
      this.agents.set(key, agent);
    }
    return agent;
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

/**
 * A body the request writes itself: it writes into the request and ends it (a blob sent from its
 * file through reused buffers, see storage/file-sender.ts). Like a stream, it can be sent once.
 */
export type BodyWriter = (request: Writable) => Promise<void>;

interface Sent {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: string;
}

async function readAll(stream: Readable, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      throw new BerthError('invalid-parameter', `malformed manifest: more than the ${limit} bytes allowed`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export class RegistryClient {
  /** Endpoints still to try; the first one that answered stays first. */
  private endpoints: Endpoint[];
  readonly auth: RegistryAuth;

  constructor(
    endpoints: Endpoint[],
    /** Repository path inside the registry: "library/busybox". */
    readonly path: string,
    credentials: Credentials,
    private readonly agents: RegistryAgents,
    private readonly options: TransportOptions,
    private readonly signal?: AbortSignal,
  ) {
    if (endpoints.length === 0) throw unavailable(`no endpoint for ${path}`);
    this.endpoints = endpoints;
    this.auth = new RegistryAuth(credentials, (url, init) => this.tokenRequest(url, init));
  }

  get endpoint(): Endpoint {
    return this.endpoints[0];
  }

  /** The scope a pull needs, or a push (with pull on mount sources). */
  scopes(actions: Array<'pull' | 'push'>, extra: string[] = []): string[] {
    return [repositoryScope(this.path, actions), ...extra];
  }

  /** GET /v2/: the login check. Resolves when the credentials are accepted. */
  async ping(): Promise<void> {
    const sent = await this.send('GET', '/v2/', { scopes: [] });
    await this.expect(sent, [200], 'GET');
  }

  async getManifest(reference: string): Promise<{ bytes: Buffer; mediaType: string; digest?: string }> {
    const sent = await this.send('GET', `/v2/${this.path}/manifests/${reference}`, { scopes: this.scopes(['pull']), headers: { Accept: MANIFEST_ACCEPT } });
    await this.expect(sent, [200], 'GET');
    const length = Number(sent.headers['content-length'] ?? 0);
    if (length > MAX_MANIFEST_BYTES) {
      sent.body.destroy();
      throw new BerthError('invalid-parameter', `malformed manifest: ${length} bytes is more than the ${MAX_MANIFEST_BYTES} allowed`);
    }
    const bytes = await readAll(sent.body, MAX_MANIFEST_BYTES);
    const digest = sent.headers['docker-content-digest'];
    return { bytes, mediaType: String(sent.headers['content-type'] ?? ''), digest: typeof digest === 'string' ? digest : undefined };
  }

  async listTags(): Promise<string[]> {
    const sent = await this.send('GET', `/v2/${this.path}/tags/list`, { scopes: this.scopes(['pull']) });
    await this.expect(sent, [200], 'GET');
    const json = JSON.parse((await readAll(sent.body, MAX_MANIFEST_BYTES)).toString('utf8')) as { tags?: string[] | null };
    return json.tags ?? [];
  }

  /** A blob from `offset` on (a 206 when the registry honours the range, else the whole blob from 0). */
  /**
   * The blob's bytes from `offset` on (or from 0, when the registry ignores the range). With
   * `handOff`, a whole plain-HTTP body comes with its hand-off (see response-hand-off.ts): another
   * process may read it from the connection, and the caller must take it or give it back.
   */
  async getBlob(digest: Digest, offset = 0, signal?: AbortSignal, handOff = false): Promise<{ stream: IncomingMessage; offset: number; size?: number; handOff?: BodyHandOff }> {
    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const sent = await this.send('GET', `/v2/${this.path}/blobs/${digest}`, { scopes: this.scopes(['pull']), headers, signal, handOff });
    await this.expect(sent, [200, 206], 'GET');
    const length = Number(sent.headers['content-length']);
    const start = sent.status === 206 ? offset : 0;
    return { stream: sent.body, offset: start, size: Number.isFinite(length) ? start + length : undefined, handOff: bodyHandOff(sent.body) };
  }

  async blobExists(digest: Digest, scopes: string[]): Promise<boolean> {
    const sent = await this.send('HEAD', `/v2/${this.path}/blobs/${digest}`, { scopes });
    sent.body.resume();
    if (sent.status === 404) return false;
    await this.expect(sent, [200], 'HEAD');
    return true;
  }

  /** Asks the registry to mount `digest` from `from`; false when it started an upload instead (then cancelled). */
  async mountBlob(digest: Digest, from: string, scopes: string[]): Promise<boolean> {
    const sent = await this.send('POST', `/v2/${this.path}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, { scopes });
    if (sent.status === 201) {
      sent.body.resume();
      return true;
    }
    await this.expect(sent, [202], 'POST');
    sent.body.resume();
    const location = sent.headers.location;
    if (location) await this.send('DELETE', location, { scopes }).then((r) => r.body.resume(), () => undefined);
    return false;
  }

  /** Uploads a blob: a POST for the session, then one PUT streaming the bytes with the digest. */
  async uploadBlob(digest: Digest, size: number, body: Buffer | BodyWriter, scopes: string[]): Promise<void> {
    const started = await this.send('POST', `/v2/${this.path}/blobs/uploads/`, { scopes, headers: { 'Content-Length': '0' } });
    await this.expect(started, [202], 'POST');
    // Read to its end, the 202's (empty) body frees its connection for the PUT, which would otherwise open another.
    started.body.resume();
    const location = started.headers.location;
    if (!location) throw unavailable(`the registry answered the upload of ${digest} without a Location`);
    const target = new URL(location, this.endpoint.base);
    target.searchParams.set('digest', digest);
    const sent = await this.send('PUT', target.toString(), {
      scopes,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      body,
    });
    // Answered before the whole body went (a refused token, a full disk): the writer stops with
    // the request, rather than write on until the stall timeout.
    await this.expect(sent, [201], 'PUT').catch((err: unknown) => {
      (sent.body as IncomingMessage & { req?: { destroy(): void } }).req?.destroy();
      throw err;
    });
  }

  /** PUT of a manifest under a tag (or its digest); resolves with the digest the registry gives it. */
  async putManifest(reference: string, mediaType: string, bytes: Buffer, scopes: string[]): Promise<string | undefined> {
    const sent = await this.send('PUT', `/v2/${this.path}/manifests/${reference}`, {
      scopes,
      headers: { 'Content-Type': mediaType, 'Content-Length': String(bytes.length) },
      body: bytes,
    });
    await this.expect(sent, [201], 'PUT');
    const digest = sent.headers['docker-content-digest'];
    return typeof digest === 'string' ? digest : undefined;
  }

  /** Fails with the registry's own error unless the status is one of `ok`. */
  private async expect(sent: Sent, ok: number[], method: string): Promise<void> {
    if (ok.includes(sent.status)) return;
    const body = method === 'HEAD' ? Buffer.alloc(0) : await readAll(sent.body, 64 * 1024).catch(() => Buffer.alloc(0));
    throw registryError(sent.status, body, method, sent.url);
  }

  /**
   * Sends a request, answering one 401 with authorisation and trying the next endpoint when one
   * cannot be reached (HTTPS refused by a plain-HTTP insecure registry, a mirror down). Bodies
   * written by a BodyWriter cannot be sent twice: those requests get their authorisation beforehand.
   */
  async send(
    method: string,
    pathOrUrl: string,
    request: { scopes: string[]; headers?: Record<string, string>; body?: Buffer | BodyWriter; signal?: AbortSignal; handOff?: boolean },
  ): Promise<Sent> {
    for (;;) {
      const endpoint = this.endpoint;
      const url = new URL(pathOrUrl, endpoint.base);
      try {
        let authorization = this.auth.header(request.scopes);
        let sent = await this.once(method, url, endpoint, request, authorization);
        if (sent.status === 401) {
          const retry = !isWriter(request.body) && (await this.auth.answer(String(sent.headers['www-authenticate'] ?? ''), request.scopes, authorization !== undefined));
          if (retry) {
            sent.body.resume();
            authorization = this.auth.header(request.scopes);
            sent = await this.once(method, url, endpoint, request, authorization);
          }
        }
        return sent;
      } catch (err) {
        // Only a read moves on to the next endpoint: a write belongs to an upload session (or a
        // manifest) of this one, and the other requests of a push under way go on using it.
        const read = method === 'GET' || method === 'HEAD';
        if (err instanceof BerthError || this.endpoints.length === 1 || !read || this.signal?.aborted || request.signal?.aborted) {
          throw err instanceof BerthError ? err : transportError(err, method, url.toString());
        }
        this.endpoints = this.endpoints.slice(1);
      }
    }
  }

  /** One request to one URL, following redirects (blobs served from elsewhere) for GET and HEAD. */
  private async once(
    method: string,
    url: URL,
    endpoint: Endpoint,
    request: { headers?: Record<string, string>; body?: Buffer | BodyWriter; signal?: AbortSignal; handOff?: boolean },
    authorization: string | undefined,
  ): Promise<Sent> {
    let target = url;
    for (let hops = 0; ; hops++) {
      const headers: Record<string, string> = { 'User-Agent': 'berth/0.1.0', ...request.headers };
      // A redirect to another host (a CDN) must not see the registry's credentials.
      if (authorization && target.host === url.host) headers.Authorization = authorization;
      const response = await this.raw(method, target, endpoint, headers, request.body, request.signal, request.handOff);
      const location = response.headers.location;
      if ((method === 'GET' || method === 'HEAD') && [301, 302, 303, 307, 308].includes(response.statusCode ?? 0) && location && hops < 5) {
        response.resume();
        target = new URL(location, target);
        continue;
      }
      return { status: response.statusCode ?? 0, headers: response.headers, body: response, url: target.toString() };
    }
  }

  private raw(
    method: string,
    url: URL,
    endpoint: Endpoint,
    headers: Record<string, string>,
    body: Buffer | BodyWriter | undefined,
    signal: AbortSignal | undefined,
    handOff = false,
  ): Promise<IncomingMessage> {
    const signals = [this.signal, signal].filter((s): s is AbortSignal => s !== undefined);
    const combined = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    const sameHost = url.host === new URL(endpoint.base).host;
    const tls = sameHost ? endpoint.tls : undefined;
    return new Promise((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request(url, { method, headers, agent: this.agents.agent(url, tls), signal: combined });
      let answer: IncomingMessage | undefined;
      // The stall timeout goes on guarding the body: a response idle that long fails with it.
      req.setTimeout(this.options.stallTimeoutMs, () => {
        const err = new Error(`net/http: timeout awaiting response headers or body (no data for ${this.options.stallTimeoutMs} ms)`);
        answer?.destroy(err);
        req.destroy(err);
      });
      // Not once: a destroyed request or response can emit more than one error (the stall's, then
      // the abort's), and an error with no listener left would end berthd.
      req.on('error', reject);
      req.once('response', (response) => {
        answer = response;
        response.on('error', () => undefined);
        if (handOff) stopBodyForHandOff(response, this.options.stallTimeoutMs);
        resolve(response);
      });
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else body(req).catch((err: Error) => req.destroy(err));
    });
  }

  private async tokenRequest(url: URL, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }) {
    const endpoint = this.endpoint;
    const tls = url.host === new URL(endpoint.base).host ? endpoint.tls : undefined;
    const headers = { ...init.headers, ...(init.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(init.body)) } : {}) };
    let response: IncomingMessage;
    try {
      response = await this.raw(init.method, url, { ...endpoint, base: url.origin, tls }, headers, init.body === undefined ? undefined : Buffer.from(init.body), undefined);
    } catch (err) {
      throw transportError(err, init.method, `${url.origin}${url.pathname}`);
    }
    return { status: response.statusCode ?? 0, body: await readAll(response, 1024 * 1024) };
  }
}

function isWriter(body: Buffer | BodyWriter | undefined): body is BodyWriter {
  return typeof body === 'function';
}
