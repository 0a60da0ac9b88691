import type { Handler, RouteTable } from '../router.js';
import { readJson, sendEmpty, sendJson } from '../http.js';
import { invalidParameter } from '../../common/errors.js';
import { parseFilters } from '../../engine/filters.js';
import type { NetworkService } from '../../engine/networks/network-service.js';
import { networkView } from '../views/network-views.js';
import { decodeNetworkConnect, decodeNetworkCreate, decodeNetworkDisconnect } from '../decode/network-requests.js';
import type { NetworkCreateResponse, NetworkPruneResponse } from '../../wire/networks.js';

export function networkRoutes(routes: RouteTable<Handler>, networks: NetworkService): void {
  routes.add('GET', '/networks', async ({ res, query }) => {
    const list = networks.list(parseFilters(query.string('filters')));
    sendJson(res, 200, list.map((n) => networkView(n, networks.members(n))));
  });

  routes.add('POST', '/networks/create', async ({ req, res }) => {
    const network = await networks.create(decodeNetworkCreate(await readJson(req)));
    const created: NetworkCreateResponse = { Id: network.Id, Warning: '' };
    sendJson(res, 201, created);
  });

  routes.add('POST', '/networks/prune', async ({ res, query }) => {
    const removed = await networks.prune(parseFilters(query.string('filters')));
    const pruned: NetworkPruneResponse = { NetworksDeleted: removed.length > 0 ? removed : null };
    sendJson(res, 200, pruned);
  });

  routes.add('GET', '/networks/{id}', async ({ res, params }) => {
    const network = networks.inspect(params.id);
    sendJson(res, 200, networkView(network, networks.members(network)));
  });

  routes.add('DELETE', '/networks/{id}', async ({ res, params }) => {
    await networks.remove(params.id);
    sendEmpty(res, 204);
  });

  routes.add('POST', '/networks/{id}/connect', async ({ req, res, params }) => {
    const { container, endpoint } = decodeNetworkConnect(await readJson(req));
    if (!container) throw invalidParameter('no container specified');
    await networks.connect(params.id, container, endpoint);
    sendEmpty(res, 200);
  });

  routes.add('POST', '/networks/{id}/disconnect', async ({ req, res, params }) => {
    const { container, force } = decodeNetworkDisconnect(await readJson(req));
    if (!container) throw invalidParameter('no container specified');
    await networks.disconnect(params.id, container, force);
    sendEmpty(res, 200);
  });
}
