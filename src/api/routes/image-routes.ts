import type { IncomingMessage, ServerResponse } from 'node:http';
import { notImplemented } from '../../common/errors.js';
import type { ImageStore } from '../../engine/images/image-store.js';
import type { ContainerService } from '../../engine/containers/service.js';
import type { Handler, RouteTable } from '../router.js';
import { sendJson, type Query } from '../http.js';
import { imageInspect, imageSummary } from '../views/image-views.js';
import { boolFilter, filterValues, globMatch, labelsMatch, parseFilters } from '../../engine/filters.js';

const IMAGE_FILTERS = ['reference', 'dangling', 'label'];

/** moby's reference.FamiliarMatch: the pattern against "name:tag" or just "name". */
function referenceMatches(pattern: string, familiarTag: string): boolean {
  const name = familiarTag.slice(0, familiarTag.lastIndexOf(':'));
  return globMatch(pattern, familiarTag) || globMatch(pattern, name);
}

/** Progress streams are JSON objects, one per line, each ending in \r\n. */
function sendProgress(res: ServerResponse, lines: object[]): void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  for (const line of lines) res.write(JSON.stringify(line) + '\r\n');
  res.end();
}

async function importImage(req: IncomingMessage, res: ServerResponse, query: Query, images: ImageStore): Promise<void> {
  const source = query.string('fromSrc');
  if (source !== '-') {
    throw notImplemented(`importing from a URL (${source}) is not supported yet by berthd; send the tar in the request body with fromSrc=-`);
  }
  const image = await images.importTar(req, {
    repo: query.string('repo'),
    tag: query.string('tag'),
    changes: query.all('changes'),
    message: query.string('message'),
  });
  sendProgress(res, [{ status: image.id }]);
}

export function imageRoutes(routes: RouteTable<Handler>, images: ImageStore, containers: ContainerService, driverName: string): void {
  routes.add('GET', '/images/json', async ({ res, version, query }) => {
    const filters = parseFilters(query.string('filters'), IMAGE_FILTERS);
    const references = filterValues(filters, 'reference');
    const dangling = boolFilter(filters, 'dangling');
    const labels = filterValues(filters, 'label');
    const listed = [];
    for (const image of images.list()) {
      let repoTags = images.repoTags(image.id);
      if (dangling !== undefined && dangling !== (repoTags.length === 0)) continue;
      if (!labelsMatch(image.config.config?.Labels, labels)) continue;
      if (references.length) {
        // As moby: only the matching names are listed, and an image with none is left out.
        repoTags = repoTags.filter((tag) => references.some((pattern) => referenceMatches(pattern, tag)));
        if (repoTags.length === 0) continue;
      }
      listed.push(imageSummary(image, repoTags, version));
    }
    sendJson(res, 200, listed);
  });

  routes.add('POST', '/images/create', async ({ req, res, query }) => {
    if (query.string('fromSrc') !== undefined) return importImage(req, res, query, images);
    const from = query.string('fromImage') ?? '';
    const tag = query.string('tag');
    throw notImplemented(
      `pulling ${from}${tag ? `:${tag}` : ''} failed: berthd cannot pull from registries yet; make local images with 'berth image busybox' or 'docker import'`,
    );
  });

  routes.add('POST', '/images/prune', async ({ res, query }) => {
    const filters = parseFilters(query.string('filters'), ['dangling', 'label']);
    const labels = filterValues(filters, 'label');
    const { deleted, spaceReclaimed } = await images.prune(
      {
        danglingOnly: boolFilter(filters, 'dangling') ?? true,
        matches: (image) => labelsMatch(image.config.config?.Labels, labels),
      },
      (id) => containers.usersOfImage(id),
    );
    sendJson(res, 200, { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: spaceReclaimed });
  });

  routes.add('GET', '/images/{name:.*}/json', async ({ res, params }) => {
    const image = images.resolve(params.name);
    sendJson(res, 200, imageInspect(image, images.repoTags(image.id), driverName));
  });

  routes.add('POST', '/images/{name:.*}/tag', async ({ res, params, query }) => {
    await images.tag(params.name, query.string('repo') ?? '', query.string('tag'));
    res.writeHead(201, { 'Content-Length': 0 });
    res.end();
  });

  routes.add('DELETE', '/images/{name:.*}', async ({ res, params, query }) => {
    const deleted = await images.remove(params.name, { force: query.bool('force') }, (id) => containers.usersOfImage(id));
    sendJson(res, 200, deleted);
  });
}
