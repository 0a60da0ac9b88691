import { unavailable } from '../../common/errors.js';
import type { Handler, RouteTable } from '../router.js';

/** What a dockerd outside any swarm answers; clients (compose, the CLI) read this 503. */
const NOT_A_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const NOT_IN_A_SWARM = 'This node is not part of a swarm';

const MANAGER_ROUTES: Array<[string, string]> = [
  ['GET', '/swarm'],
  ['POST', '/swarm/update'],
  ['GET', '/swarm/unlockkey'],
  ['POST', '/swarm/unlock'],
  ['GET', '/nodes'],
  ['GET', '/nodes/{id}'],
  ['DELETE', '/nodes/{id}'],
  ['POST', '/nodes/{id}/update'],
  ['GET', '/services'],
  ['GET', '/services/{id}'],
  ['POST', '/services/create'],
  ['POST', '/services/{id}/update'],
  ['DELETE', '/services/{id}'],
  ['GET', '/services/{id}/logs'],
  ['GET', '/tasks'],
  ['GET', '/tasks/{id}'],
  ['GET', '/tasks/{id}/logs'],
  ['GET', '/secrets'],
  ['POST', '/secrets/create'],
  ['GET', '/secrets/{id}'],
  ['POST', '/secrets/{id}/update'],
  ['DELETE', '/secrets/{id}'],
  ['GET', '/configs'],
  ['POST', '/configs/create'],
  ['GET', '/configs/{id}'],
  ['POST', '/configs/{id}/update'],
  ['DELETE', '/configs/{id}'],
];

/** Swarm mode is not offered: its endpoints answer as on a node that never joined a swarm. */
export function swarmRoutes(routes: RouteTable<Handler>): void {
  const notManager: Handler = async () => {
    throw unavailable(NOT_A_MANAGER);
  };
  for (const [method, path] of MANAGER_ROUTES) routes.add(method, path, notManager);
  routes.add('POST', '/swarm/leave', async () => {
    throw unavailable(NOT_IN_A_SWARM);
  });
}
