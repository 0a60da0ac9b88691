/**
 * Registry authentication as the Docker registry protocol defines it: the 401's WWW-Authenticate
 * challenge says Basic or Bearer; Bearer means a token from the challenge's realm for the scopes
 * the request needs (repository:NAME:pull[,push], one per repository, a mount adding its source).
 * Credentials stay in this module's objects: never logged, never put into an error message.
 */
import { RegistryStatusError } from './registry-errors.js';
import { parseNormalisedNamed } from '../images/reference.js';

/** A token refused or unobtainable: the registry's 401, in the token server's words. */
const tokenRefused = (message: string) => new RegistryStatusError('internal', message, 401, 'token');

/** The X-Registry-Auth JSON (docker's types/registry.AuthConfig), as far as a registry needs it. */
export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth refresh token from an earlier login: exchanged at the realm for access tokens. */
  identitytoken?: string;
  /** A bearer token sent as it is. */
  registrytoken?: string;
}

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="a b"` (quoted strings with \-escapes, or tokens). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1].toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const pair = /\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/gy;
  const rest = match[2];
  let m: RegExpExecArray | null;
  while (pair.lastIndex < rest.length && (m = pair.exec(rest)) !== null) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return { scheme, params };
}

export function hasCredentials(credentials: Credentials): boolean {
  return Boolean(credentials.username || credentials.password || credentials.identitytoken || credentials.registrytoken);
}

export function basicHeader(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64')}`;
}

/** How a token request is sent; the HTTP layer implements it (so it shares TLS settings and timeouts). */
export type TokenFetcher = (
  url: URL,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
) => Promise<{ status: number; body: Buffer }>;

/**
 * One registry's authorisation for one operation: remembers the scheme the registry asked for
 * and the tokens it got, per scope set, so the later requests of a pull or push carry them.
 */
export class RegistryAuth {
  private basic = false;
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly credentials: Credentials,
    private readonly fetchToken: TokenFetcher,
  ) {}

  /** The Authorization header for a request needing `scopes`, if one is known yet. */
  header(scopes: string[]): string | undefined {
    if (this.credentials.registrytoken) return `Bearer ${this.credentials.registrytoken}`;
    if (this.basic) return basicHeader(this.credentials);
    const token = this.tokens.get(scopes.join(' '));
    return token ? `Bearer ${token}` : undefined;
  }

  /**
   * Learns from a 401: true when a retry with new authorisation is worth making. A registry
   * that refuses what was just offered (wrong password, token lacking a scope) gets no retry.
   */
  async answer(challengeHeader: string | undefined, scopes: string[], alreadyAuthorised: boolean): Promise<boolean> {
    const challenge = parseChallenge(challengeHeader);
    if (!challenge || alreadyAuthorised) return false;
    if (challenge.scheme === 'basic') {
      if (!hasCredentials(this.credentials)) return false;
      this.basic = true;
      return true;
    }
    const wanted = [...new Set([...scopes, ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])])];
    this.tokens.set(scopes.join(' '), await this.token(challenge, wanted));
    return true;
  }

  private async token(challenge: Challenge, scopes: string[]): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw tokenRefused('the registry asked for a bearer token without naming a realm');
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw tokenRefused(`the registry's token realm ${JSON.stringify(realm)} is not a URL`);
    }
    const service = challenge.params.service;
    if (this.credentials.identitytoken) {
      // OAuth2 refresh-token grant, as docker's token handler does with an identity token.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.credentials.identitytoken, client_id: 'berth', ...(service ? { service } : {}) });
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      return this.tokenFrom(await this.fetchToken(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() }), url);
    }
    if (service) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (this.credentials.username || this.credentials.password) headers.Authorization = basicHeader(this.credentials);
    return this.tokenFrom(await this.fetchToken(url, { method: 'GET', headers }), url);
  }

  private tokenFrom(response: { status: number; body: Buffer }, url: URL): string {
    const where = `${url.origin}${url.pathname}`;
    if (response.status === 401 || response.status === 403) throw tokenRefused(`getting a token from ${where}: unauthorized: incorrect username or password`);
    if (response.status !== 200) throw tokenRefused(`getting a token from ${where}: unexpected status ${response.status}`);
    let json: { token?: unknown; access_token?: unknown };
    try {
      json = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw tokenRefused(`getting a token from ${where}: the answer is not JSON`);
    }
    const token = typeof json.token === 'string' && json.token ? json.token : json.access_token;
    if (typeof token !== 'string' || !token) throw tokenRefused(`getting a token from ${where}: the answer holds no token`);
    return token;
  }
}

/** repository:NAME:ACTIONS, the scope string of the token protocol. */
export function repositoryScope(path: string, actions: Array<'pull' | 'push'>): string {
  return `repository:${path}:${actions.join(',')}`;
}

/**
 * The login X-Registry-Config holds for an image's registry (moby's ResolveAuthConfig): keyed by
 * the registry's host[:port] or a URL of it, Docker Hub's under its index URL. None: anonymous.
 */
export function credentialsForImage(image: string, byServer: ReadonlyMap<string, Credentials>): Credentials {
  const { domain } = parseNormalisedNamed(image);
  for (const [server, credentials] of byServer) {
    const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (host === domain || (domain === 'docker.io' && HUB_HOSTS.includes(host))) return credentials;
  }
  return {};
}

const HUB_HOSTS = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
