import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/logger.js';
import { invalidParameter, notFound } from '../common/errors.js';
import { messageOf, statusOf } from './errors.js';
import { Query, sendEmpty, sendJson, standardHeaders } from './http.js';
import { RouteTable, type Handler, type UpgradeHandler } from './router.js';
import { splitVersion } from './version.js';
import { parseRequestTarget } from './request-target.js';
import { defaultConnectionLimits, limitBodyIdleTime, limitConnections, serverOptions, type ConnectionLimits } from './connection-limits.js';
import type { ContainerService } from '../engine/containers/service.js';
import type { ExecService } from '../engine/containers/exec-service.js';
import type { UsageService } from '../engine/containers/usage-service.js';
import type { ImageService } from '../engine/images/image-service.js';
import type { SystemInfo } from '../engine/system/system-info.js';
import type { EventBus } from '../engine/events/event-bus.js';
import type { ErrorResponse } from '../wire/errors.js';
import { systemRoutes } from './routes/system-routes.js';
import { containerRoutes } from './routes/container-routes.js';
import { attachRoutes } from './routes/attach-hijack.js';
import { DEFAULT_DETACH_KEYS } from '../common/detach-keys.js';
import { imageRoutes } from './routes/image-routes.js';
import { swarmRoutes } from './routes/swarm-routes.js';
import { updateRoutes } from './routes/update-routes.js';
import type { ContainerUpdates } from '../engine/containers/container-update.js';
import { execRoutes } from './routes/exec-routes.js';
import { usageRoutes } from './routes/usage-routes.js';
import { archiveRoutes } from './routes/archive-routes.js';
import { imageArchiveRoutes } from './routes/image-archive-routes.js';
import type { ImageArchiveService } from '../engine/images/image-archive-service.js';
import { networkRoutes } from './routes/network-routes.js';
import type { NetworkService } from '../engine/networks/network-service.js';
import type { ContainerArchiveService } from '../engine/containers/archive-service.js';
import type { CommitService } from '../engine/images/commit-service.js';
import type { DiskUsage } from '../engine/system/disk-usage.js';
import { imageMetaRoutes } from './routes/image-meta-routes.js';
import { systemDfRoutes } from './routes/system-df-routes.js';
import { volumeRoutes } from './routes/volume-routes.js';
import type { VolumeService } from '../engine/volumes/volume-service.js';
import type { DistributionService } from '../engine/distribution/distribution-service.js';
import { distributionRoutes, pullHandler } from './routes/distribution-routes.js';
import { buildRoutes } from './routes/build-routes.js';
import type { Builder } from '../engine/build/builder.js';

export interface ApiEngine {
  containers: ContainerService;
  updates: ContainerUpdates;
  execs: ExecService;
  usage: UsageService;
  archives: ContainerArchiveService;
  /** Volumes; the /volumes endpoints exist only with it. */
  volumes?: VolumeService;
  images: ImageService;
  commits: CommitService;
  diskUsage: DiskUsage;
  /** docker save and load; without it those routes are not served. */
  imageArchives?: ImageArchiveService;
  distribution: DistributionService;
  system: SystemInfo;
  events: EventBus;
  storageDriverName: string;
  /** Networks; absent in API tests that need none. */
  networks?: NetworkService;
  builder: Builder;
  /** daemon.json `detach-keys`: the default escape sequence of attach. */
  detachKeys?: string;
}

function errorBody(err: unknown): ErrorResponse {
  return { message: messageOf(err) };
}

function sendError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  if (status === 304) return sendEmpty(res, 304);
  sendJson(res, status, errorBody(err));
}

/** Writes an HTTP error on a connection that was about to be hijacked (no 101 sent yet). */
function writeRawError(socket: Duplex, err: unknown): void {
  const status = statusOf(err);
  const body = JSON.stringify(errorBody(err)) + '\n';
  const headers = { ...standardHeaders(), 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
}

/** Parses the target and version prefix of a request, refusing malformed ones with a 400. */
function target(req: IncomingMessage): { version: string; path: string; query: Query } {
  const { pathname, searchParams } = parseRequestTarget(req.url);
  return { ...splitVersion(pathname), query: new Query(searchParams) };
}

/** The Engine API server: versioned paths, Docker's headers and error bodies, hijacked attach. */
export function createApiServer(engine: ApiEngine, logger: Logger, limits: ConnectionLimits = defaultConnectionLimits()): Server {
  const routes = new RouteTable<Handler>();
  const upgrades = new RouteTable<UpgradeHandler>();
  systemRoutes(routes, engine.system, engine.events);
  containerRoutes(routes, engine.containers, engine.execs);
  attachRoutes(routes, upgrades, engine.containers, { detachKeys: engine.detachKeys ?? DEFAULT_DETACH_KEYS });
  imageRoutes(routes, engine.images, engine.storageDriverName, pullHandler(engine.distribution));
  distributionRoutes(routes, engine.distribution);
  swarmRoutes(routes);
  if (engine.networks) networkRoutes(routes, engine.networks);
  updateRoutes(routes, engine.updates);
  execRoutes(routes, upgrades, engine.execs);
  usageRoutes(routes, engine.usage);
  archiveRoutes(routes, engine.archives);
  imageMetaRoutes(routes, engine.containers, engine.images, engine.commits);
  buildRoutes(routes, engine.builder);
  systemDfRoutes(routes, engine.diskUsage, engine.containers);
  if (engine.volumes) volumeRoutes(routes, engine.volumes);
  if (engine.imageArchives) imageArchiveRoutes(routes, engine.imageArchives);

  /** A failure of berthd itself is logged with its stack; a refused request only at debug. */
  const logFailure = (req: IncomingMessage, err: unknown) => {
    const fields = { method: req.method, url: req.url, err };
    if (statusOf(err) >= 500 && statusOf(err) !== 501 && statusOf(err) !== 503) logger.error('request failed', fields);
    else logger.debug('request failed', fields);
  };

  const server = createServer(serverOptions(limits));
  limitConnections(server, limits);
  limitBodyIdleTime(server, limits);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(standardHeaders())) res.setHeader(name, value);
    const controller = new AbortController();
    const started = performance.now();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
      logger.debug('request', { method: req.method, url: req.url, status: res.statusCode, ms: +(performance.now() - started).toFixed(2) });
    });
    handle(req, res, controller.signal).catch((err) => {
      logFailure(req, err);
      if (!res.headersSent) sendError(res, err);
      else res.destroy(); // mid-stream: the client sees a cut stream, as with dockerd
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const { version, path, query } = target(req);
    const match = routes.match(req.method ?? 'GET', path);
    if (match === undefined) {
      if (upgrades.match(req.method ?? 'GET', path)) {
        throw invalidParameter('this endpoint needs a connection upgrade (Connection: Upgrade, Upgrade: tcp)');
      }
      return sendJson(res, 404, { message: 'page not found' } satisfies ErrorResponse);
    }
    if (match === 'method-not-allowed') return sendJson(res, 405, { message: 'method not allowed' } satisfies ErrorResponse);
    await match.handler({ req, res, params: match.params, query, version, signal });
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => logger.debug('hijacked connection error', { err }));
    const controller = new AbortController();
    socket.once('close', () => controller.abort());
    const run = async () => {
      const { version, path, query } = target(req);
      const match = upgrades.match(req.method ?? 'GET', path);
      if (match === undefined || match === 'method-not-allowed') {
        return writeRawError(socket, notFound('page not found'));
      }
      await match.handler({ req, socket, head, params: match.params, query, version, signal: controller.signal });
    };
    run().catch((err) => {
      logFailure(req, err);
      writeRawError(socket, err);
    });
  });
  return server;
}
