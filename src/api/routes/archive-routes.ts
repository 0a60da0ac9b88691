import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encodePathStat, type PathStat } from '../../archive/index.js';
import { invalidParameter } from '../../common/errors.js';
import type { ContainerArchiveService } from '../../engine/containers/archive-service.js';
import type { Query } from '../http.js';
import type { Handler, RouteTable } from '../router.js';

/** The header in which the docker CLI reads the stat of a copied path. */
const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';

function requiredPath(query: Query): string {
  const path = query.string('path');
  if (!path) throw invalidParameter('bad parameter: path cannot be empty');
  return path;
}

function sendTar(res: ServerResponse, tar: Readable, stat?: PathStat): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-tar' };
  if (stat) headers[PATH_STAT_HEADER] = encodePathStat(stat);
  res.writeHead(200, headers);
  return pipeline(tar, res);
}

/** docker cp (`/containers/{id}/archive`) and docker export. */
export function archiveRoutes(routes: RouteTable<Handler>, archives: ContainerArchiveService): void {
  routes.add('HEAD', '/containers/{id}/archive', async ({ res, params, query }) => {
    const stat = await archives.stat(params.id, requiredPath(query));
    res.writeHead(200, { 'Content-Type': 'application/json', [PATH_STAT_HEADER]: encodePathStat(stat) });
    res.end();
  });

  routes.add('GET', '/containers/{id}/archive', async ({ res, params, query }) => {
    await archives.archive(params.id, requiredPath(query), (stat, tar) => sendTar(res, tar, stat));
  });

  routes.add('PUT', '/containers/{id}/archive', async ({ req, res, params, query }) => {
    const request = { path: requiredPath(query), noOverwriteDirNonDir: query.bool('noOverwriteDirNonDir'), copyUIDGID: query.bool('copyUIDGID') };
    await archives.extract(params.id, request, req);
    res.writeHead(200, { 'Content-Length': 0 });
    res.end();
  });

  routes.add('GET', '/containers/{id}/export', async ({ res, params }) => {
    await archives.export(params.id, (tar) => sendTar(res, tar));
  });
}
