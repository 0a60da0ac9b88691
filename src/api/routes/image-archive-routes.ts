import type { ImageArchiveService } from '../../engine/images/image-archive-service.js';
import { pipeline } from 'node:stream/promises';
import type { Handler, RouteTable } from '../router.js';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

function sendTar(res: ServerResponse, tar: Readable): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  return pipeline(tar, res);
}

/** docker save (`/images/get`, `/images/{name}/get`) and docker load (`/images/load`). */
export function imageArchiveRoutes(routes: RouteTable<Handler>, archives: ImageArchiveService): void {
  routes.add('GET', '/images/get', async ({ res, query }) => {
    await sendTar(res, await archives.save(query.all('names')));
  });

  routes.add('GET', '/images/{name:.*}/get', async ({ res, params }) => {
    await sendTar(res, await archives.save([params.name]));
  });

  routes.add('POST', '/images/load', async ({ req, res }) => {
    // quiet only turns off progress bars, which berthd does not draw: the result lines stay.
    const lines = await archives.load(req);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const line of lines) res.write(`${JSON.stringify({ stream: `${line}\n` })}\r\n`);
    res.end();
  });
}
