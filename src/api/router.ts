import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Query } from './http.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: Query;
  /** The API version the client asked for (from the /vX.Y prefix). */
  version: string;
  /** Aborted when the client goes away, so long streams (wait, logs -f) stop. */
  signal: AbortSignal;
}

/** A request that takes over the connection (attach with `Upgrade: tcp`). */
export interface UpgradeContext extends Omit<RequestContext, 'res'> {
  socket: Duplex;
  head: Buffer;
}

export type Handler = (ctx: RequestContext) => Promise<void>;
export type UpgradeHandler = (ctx: UpgradeContext) => Promise<void>;

interface Route<H> {
  method: string;
  pattern: RegExp;
  names: string[];
  /** Ends in a catch-all (`/images/{name:.*}`): it matches nearly any path below its prefix. */
  catchAll: boolean;
  handler: H;
}

/**
 * Routes in gorilla/mux syntax as moby writes them: `{id}` matches one segment, `{name:.*}`
 * anything (image names contain slashes).
 */
function compile(path: string): { pattern: RegExp; names: string[]; catchAll: boolean } {
  const names: string[] = [];
  const source = path
    .split(/(\{\w+(?::\.\*)?\})/)
    .map((part) => {
      const param = part.match(/^\{(\w+)(:\.\*)?\}$/);
      if (!param) return part.replace(/[.*+?^$()[\]\\|{}]/g, '\\$&');
      names.push(param[1]);
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}$`), names, catchAll: /\{\w+:\.\*\}$/.test(path) };
}

export type Match<H> = { handler: H; params: Record<string, string> } | 'method-not-allowed' | undefined;

export class RouteTable<H> {
  private readonly routes: Array<Route<H>> = [];

  add(method: string, path: string, handler: H): this {
    this.routes.push({ method, ...compile(path), handler });
    return this;
  }

  /**
   * The route for a request. A path that some route takes with another method is 405, except
   * when only a catch-all takes it: `GET /images/x/nosuch` is a missing endpoint (404), not a
   * wrong method for `DELETE /images/{name:.*}`, which is what clients expect.
   */
  match(method: string, path: string): Match<H> {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched ||= !route.catchAll;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
      return { handler: route.handler, params };
    }
    return pathMatched ? 'method-not-allowed' : undefined;
  }
}
