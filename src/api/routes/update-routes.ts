import type { ContainerUpdates } from '../../engine/containers/container-update.js';
import type { ContainerUpdateResponse } from '../../wire/containers.js';
import { decodeContainerUpdate } from '../decode/container-update.js';
import { readJson, sendJson } from '../http.js';
import type { Handler, RouteTable } from '../router.js';

/** POST /containers/{id}/update (docker update). */
export function updateRoutes(routes: RouteTable<Handler>, updates: ContainerUpdates): void {
  routes.add('POST', '/containers/{id}/update', async ({ req, res, params }) => {
    const request = decodeContainerUpdate(await readJson(req));
    const response: ContainerUpdateResponse = { Warnings: await updates.update(params.id, request) };
    sendJson(res, 200, response);
  });
}
