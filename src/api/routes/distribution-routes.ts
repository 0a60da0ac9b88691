/**
 * Registry endpoints: pull (POST /images/create?fromImage=), push (POST /images/{name}/push), what
 * a registry holds under a name (GET /distribution/{name}/json) and the login check (POST /auth). Credentials come from X-Registry-Auth (base64url JSON) or the
 * /auth body, go to the engine and nowhere else (never logged, never echoed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidParameter } from '../../common/errors.js';
import type { DistributionService } from '../../engine/distribution/distribution-service.js';
import type { Credentials } from '../../engine/distribution/registry-auth.js';
import type { AuthConfig, AuthResponse, DistributionProgress } from '../../wire/distribution.js';
import { messageOf } from '../errors.js';
import { readJson, sendJson } from '../http.js';
import type { Handler, RequestContext, RouteTable } from '../router.js';

/** X-Registry-Auth: base64url (or standard base64) of an AuthConfig; anything unreadable counts as none, as moby. */
export function decodeRegistryAuth(header: string | string[] | undefined): Credentials {
  if (typeof header !== 'string' || header === '') return {};
  try {
    const json = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as AuthConfig;
    return credentialsOf(json);
  } catch {
    return {};
  }
}

/** X-Registry-Config (build): a map of server address → AuthConfig, base64url JSON. */
export function decodeRegistryConfig(header: string | string[] | undefined): Map<string, Credentials> {
  const configs = new Map<string, Credentials>();
  if (typeof header !== 'string' || header === '') return configs;
  try {
    const json = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, AuthConfig>;
    for (const [server, auth] of Object.entries(json ?? {})) configs.set(server, credentialsOf(auth));
  } catch {
    // unreadable: no credentials, as moby
  }
  return configs;
}

function credentialsOf(auth: AuthConfig | null | undefined): Credentials {
  if (typeof auth !== 'object' || auth === null) return {};
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  let { username, password } = { username: text(auth.username), password: text(auth.password) };
  if (!username && !password && text(auth.auth)) {
    const decoded = Buffer.from(auth.auth!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  }
  return { username, password, identitytoken: text(auth.identitytoken), registrytoken: text(auth.registrytoken) };
}

/**
 * A progress stream that starts (200, JSON lines) with its first message, so a failure before
 * any progress is still a plain HTTP error; a failure after it is an error line, as dockerd writes.
 */
export async function streamProgress(res: ServerResponse, work: (progress: (message: DistributionProgress) => void) => Promise<unknown>): Promise<void> {
  const send = (message: DistributionProgress) => {
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(message) + '\r\n');
  };
  try {
    await work(send);
  } catch (err) {
    if (!res.headersSent) throw err;
    send({ errorDetail: { message: messageOf(err) }, error: messageOf(err) });
  }
  if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end();
}

/** POST /images/create with fromImage: the pull. image-routes hands requests without fromSrc here. */
export function pullHandler(distribution: DistributionService): Handler {
  return async ({ req, res, query, signal }: RequestContext) => {
    const fromImage = query.string('fromImage') ?? '';
    if (fromImage === '') throw invalidParameter('invalid reference format');
    await streamProgress(res, (progress) =>
      distribution.pull(
        {
          fromImage,
          tag: query.string('tag'),
          platform: query.string('platform'),
          allTags: query.bool('all-tags') || false,
          credentials: decodeRegistryAuth(req.headers['x-registry-auth']),
        },
        progress,
        signal,
      ),
    );
  };
}

async function readAuthBody(req: IncomingMessage): Promise<AuthConfig> {
  return (await readJson(req)) as AuthConfig;
}

export function distributionRoutes(routes: RouteTable<Handler>, distribution: DistributionService): void {
  routes.add('POST', '/images/{name:.*}/push', async ({ req, res, params, query, signal }) => {
    await streamProgress(res, (progress) =>
      distribution.push({ name: params.name, tag: query.string('tag'), credentials: decodeRegistryAuth(req.headers['x-registry-auth']) }, progress, signal),
    );
  });

  routes.add('GET', '/distribution/{name:.*}/json', async ({ req, res, params, signal }) => {
    sendJson(res, 200, await distribution.inspect(params.name, decodeRegistryAuth(req.headers['x-registry-auth']), signal));
  });

  routes.add('POST', '/auth', async ({ req, res }) => {
    const body = await readAuthBody(req);
    await distribution.login(typeof body.serveraddress === 'string' ? body.serveraddress : '', credentialsOf(body));
    sendJson(res, 200, { Status: 'Login Succeeded', IdentityToken: '' } satisfies AuthResponse);
  });
}
