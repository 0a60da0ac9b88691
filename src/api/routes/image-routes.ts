import type { ServerResponse } from 'node:http';
import type { ImageService } from '../../engine/images/image-service.js';
import { parseFilters } from '../../engine/filters.js';
import type { Handler, RouteTable } from '../router.js';
import { sendJson } from '../http.js';
import { imageInspect, imageSummary } from '../views/image-views.js';
import type { ImagePruneResponse, ProgressMessage } from '../../wire/images.js';

/** Progress streams are JSON objects, one per line, each ending in \r\n. */
function sendProgress(res: ServerResponse, lines: ProgressMessage[]): void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  for (const line of lines) res.write(JSON.stringify(line) + '\r\n');
  res.end();
}

export function imageRoutes(routes: RouteTable<Handler>, images: ImageService, driverName: string): void {
  routes.add('GET', '/images/json', async ({ res, version, query }) => {
    const listed = images.list(parseFilters(query.string('filters')), { all: query.bool('all') });
    sendJson(res, 200, listed.map(({ image, repoTags }) => imageSummary(image, repoTags, version)));
  });

  routes.add('POST', '/images/create', async ({ req, res, query }) => {
    const source = query.string('fromSrc');
    if (source === undefined) return images.pull(query.string('fromImage') ?? '', query.string('tag'));
    const image = await images.importTar(req, {
      source,
      repo: query.string('repo'),
      tag: query.string('tag'),
      changes: query.all('changes'),
      message: query.string('message'),
    });
    sendProgress(res, [{ status: image.id }]);
  });

  routes.add('POST', '/images/prune', async ({ res, query }) => {
    const { deleted, spaceReclaimed } = await images.prune(parseFilters(query.string('filters')));
    const body: ImagePruneResponse = { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: spaceReclaimed };
    sendJson(res, 200, body);
  });

  routes.add('GET', '/images/{name:.*}/json', async ({ res, params }) => {
    const { image, repoTags } = images.inspect(params.name);
    sendJson(res, 200, imageInspect(image, repoTags, { name: driverName, data: await images.graphDriverData(image) }));
  });

  routes.add('POST', '/images/{name:.*}/tag', async ({ res, params, query }) => {
    await images.tag(params.name, query.string('repo') ?? '', query.string('tag'));
    res.writeHead(201, { 'Content-Length': 0 });
    res.end();
  });

  routes.add('DELETE', '/images/{name:.*}', async ({ res, params, query }) => {
    sendJson(res, 200, await images.remove(params.name, { force: query.bool('force'), noPrune: query.bool('noprune') }));
  });
}
