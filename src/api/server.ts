import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/logger.js';
import { invalidParameter, notFound } from '../common/errors.js';
import { messageOf, statusOf } from './errors.js';
import { Query, sendEmpty, sendJson, standardHeaders } from './http.js';
import { RouteTable, type Handler, type UpgradeHandler } from './router.js';
import { splitVersion } from './version.js';
import type { ContainerService } from '../engine/containers/service.js';
import type { ImageStore } from '../engine/images/image-store.js';
import type { SystemInfo } from '../engine/system/system-info.js';
import { systemRoutes } from './routes/system-routes.js';
import { containerRoutes } from './routes/container-routes.js';
import { imageRoutes } from './routes/image-routes.js';

export interface ApiEngine {
  containers: ContainerService;
  images: ImageStore;
  system: SystemInfo;
  storageDriverName: string;
}

function sendError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  if (status === 304) return sendEmpty(res, 304);
  sendJson(res, status, { message: messageOf(err) });
}

/** Writes an HTTP error on a connection that was about to be hijacked (no 101 sent yet). */
function writeRawError(socket: Duplex, err: unknown): void {
  const status = statusOf(err);
  const body = JSON.stringify({ message: messageOf(err) }) + '\n';
  const headers = { ...standardHeaders(), 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
}

/** The Engine API server: versioned paths, Docker's headers and error bodies, hijacked attach. */
export function createApiServer(engine: ApiEngine, logger: Logger): Server {
  const routes = new RouteTable<Handler>();
  const upgrades = new RouteTable<UpgradeHandler>();
  systemRoutes(routes, engine.system);
  containerRoutes(routes, upgrades, engine.containers, (ref) => engine.images.find(ref)?.id);
  imageRoutes(routes, engine.images, engine.containers, engine.storageDriverName);

  const server = createServer({ requestTimeout: 0 });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(standardHeaders())) res.setHeader(name, value);
    const controller = new AbortController();
    const started = performance.now();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
      logger.debug('request', { method: req.method, url: req.url, status: res.statusCode, ms: +(performance.now() - started).toFixed(2) });
    });
    handle(req, res, controller.signal).catch((err) => {
      logger.debug('request failed', { method: req.method, url: req.url, err });
      if (!res.headersSent) sendError(res, err);
      else res.destroy(); // mid-stream: the client sees a cut stream, as with dockerd
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { version, path } = splitVersion(url.pathname);
    const match = routes.match(req.method ?? 'GET', path);
    if (match === undefined) {
      if (upgrades.match(req.method ?? 'GET', path)) {
        throw invalidParameter('this endpoint needs a connection upgrade (Connection: Upgrade, Upgrade: tcp)');
      }
      return sendJson(res, 404, { message: 'page not found' });
    }
    if (match === 'method-not-allowed') return sendJson(res, 405, { message: 'method not allowed' });
    await match.handler({ req, res, params: match.params, query: new Query(url.searchParams), version, signal });
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => logger.debug('hijacked connection error', { err }));
    const controller = new AbortController();
    socket.once('close', () => controller.abort());
    const run = async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const { version, path } = splitVersion(url.pathname);
      const match = upgrades.match(req.method ?? 'GET', path);
      if (match === undefined || match === 'method-not-allowed') {
        return writeRawError(socket, notFound('page not found'));
      }
      await match.handler({ req, socket, head, params: match.params, query: new Query(url.searchParams), version, signal: controller.signal });
    };
    run().catch((err) => writeRawError(socket, err));
  });
  return server;
}
