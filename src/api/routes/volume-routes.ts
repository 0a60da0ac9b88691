/**
 * Docker's /volumes endpoints (docker volume create/ls/inspect/rm/prune) and Berth's own
 * /volumes/{name}/export and /import, which stream a volume's content as a tar.
 */
import { pipeline } from 'node:stream/promises';
import { unavailable } from '../../common/errors.js';
import { parseFilters } from '../../engine/filters.js';
import type { VolumeService } from '../../engine/volumes/volume-service.js';
import type { VolumeCreateBody, VolumeListResponse, VolumePruneResponse } from '../../wire/volumes.js';
import { FieldPath, string, stringMap } from '../decode/json-fields.js';
import { readJson, sendEmpty, sendJson } from '../http.js';
import type { Handler, RouteTable } from '../router.js';
import { volumeView } from '../views/volume-views.js';

const CREATE = new FieldPath('CreateOptions');

function decodeCreate(body: Record<string, unknown>): VolumeCreateBody {
  return {
    Name: string(body, 'Name', CREATE),
    Driver: string(body, 'Driver', CREATE),
    DriverOpts: stringMap(body, 'DriverOpts', CREATE),
    Labels: stringMap(body, 'Labels', CREATE),
  };
}

export function volumeRoutes(routes: RouteTable<Handler>, volumes: VolumeService): void {
  routes.add('GET', '/volumes', async ({ res, query }) => {
    const list = await volumes.list(parseFilters(query.string('filters')));
    sendJson(res, 200, { Volumes: list.map((volume) => volumeView(volume)), Warnings: null } satisfies VolumeListResponse);
  });

  routes.add('POST', '/volumes/create', async ({ req, res }) => {
    const volume = await volumes.create(decodeCreate(await readJson(req)));
    sendJson(res, 201, volumeView(volume));
  });

  routes.add('POST', '/volumes/prune', async ({ res, query }) => {
    const { deleted, reclaimed } = await volumes.prune(parseFilters(query.string('filters')));
    sendJson(res, 200, { VolumesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed } satisfies VolumePruneResponse);
  });

  routes.add('GET', '/volumes/{name}', async ({ res, params }) => {
    sendJson(res, 200, volumeView(await volumes.inspect(params.name)));
  });

  routes.add('DELETE', '/volumes/{name}', async ({ res, params, query }) => {
    await volumes.remove(params.name, { force: query.bool('force') });
    sendEmpty(res, 204);
  });

  // Only cluster volumes can be updated, and berthd has no swarm (moby's answer on such a node).
  routes.add('PUT', '/volumes/{name}', async () => {
    throw unavailable('volume update only valid for cluster volumes, but swarm is unavailable');
  });

  routes.add('GET', '/volumes/{name}/export', async ({ res, params }) => {
    const tar = await volumes.export(params.name);
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await pipeline(tar, res);
  });

  routes.add('PUT', '/volumes/{name}/import', async ({ req, res, params }) => {
    await volumes.import(params.name, req);
    sendEmpty(res, 204);
  });
}
