/** GET /containers/{id}/top and GET /containers/{id}/stats. */
import { invalidParameter } from '../../common/errors.js';
import type { UsageService } from '../../engine/containers/usage-service.js';
import type { TopResponse } from '../../wire/stats.js';
import { sendJson } from '../http.js';
import type { Handler, RouteTable } from '../router.js';
import { statsResponse } from '../views/stats-views.js';

export function usageRoutes(routes: RouteTable<Handler>, usage: UsageService): void {
  routes.add('GET', '/containers/{id}/top', async ({ res, params, query }) => {
    sendJson(res, 200, (await usage.top(params.id, query.string('ps_args') ?? '')) satisfies TopResponse);
  });

  routes.add('GET', '/containers/{id}/stats', async ({ res, params, query, signal }) => {
    const stream = query.bool('stream', true);
    const oneShot = query.bool('one-shot');
    if (stream && oneShot) throw invalidParameter('cannot have stream=true and one-shot=true');
    const frames = usage.stats(params.id, { stream, oneShot }, signal);
    // The first frame (or a 404) before the headers: a missing container is an HTTP error.
    let next = await frames.next();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    while (!next.done) {
      res.write(JSON.stringify(statsResponse(next.value)) + '\n');
      if (res.destroyed) break;
      next = await frames.next();
    }
    await frames.return(undefined);
    res.end();
  });
}
