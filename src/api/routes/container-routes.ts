import type { ServerResponse } from 'node:http';
import { invalidParameter } from '../../common/errors.js';
import type { ContainerService } from '../../engine/containers/service.js';
import type { ExecService } from '../../engine/containers/exec-service.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { Handler, RouteTable } from '../router.js';
import { readJson, sendEmpty, sendJson } from '../http.js';
import { containerInspect, containerSummary, waitResponse } from '../views/container-views.js';
import { decodeContainerSpec } from '../decode/container-create.js';
import { decodeKillSignal, decodeLogOptions, decodeResize, decodeStopOptions, decodeWaitCondition } from '../decode/container-queries.js';
import type { ContainerCreateResponse, ContainerPruneResponse } from '../../wire/containers.js';
import { frame, outputContentType, streamNumber } from '../stream-framing.js';
import { parseFilters } from '../../engine/filters.js';
import { detailsPrefix } from '../../engine/containers/log-config.js';

/** Resolves when the response can take more, or when it is gone ('drain' never comes then). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.once('drain', done).once('close', done);
  });
}

export function containerRoutes(routes: RouteTable<Handler>, containers: ContainerService, execs: ExecService): void {
  routes.add('GET', '/containers/json', async ({ res, query }) => {
    const list = containers.list({ all: query.bool('all'), limit: query.int('limit'), filters: parseFilters(query.string('filters')) });
    const sizes = query.bool('size') ? await Promise.all(list.map((c) => containers.sizes(c))) : [];
    // Containers mostly share a few images: each reference is looked up (parsed) once per answer.
    const holds = new Map<string, boolean>();
    const referenceHolds = (c: ContainerRecord) => {
      const key = `${c.config.Image}\n${c.image}`;
      let answer = holds.get(key);
      if (answer === undefined) holds.set(key, (answer = containers.imageReferenceHolds(c)));
      return answer;
    };
    sendJson(res, 200, list.map((c, i) => containerSummary(c, referenceHolds(c), sizes[i])));
  });

  routes.add('POST', '/containers/prune', async ({ res, query }) => {
    const { removed, spaceReclaimed } = await containers.prune(parseFilters(query.string('filters')));
    const pruned: ContainerPruneResponse = { ContainersDeleted: removed.length > 0 ? removed : null, SpaceReclaimed: spaceReclaimed };
    sendJson(res, 200, pruned);
  });

  routes.add('POST', '/containers/create', async ({ req, res, query }) => {
    const spec = decodeContainerSpec(await readJson(req), query.string('platform'));
    const { record, warnings } = await containers.create(spec, query.string('name'));
    const created: ContainerCreateResponse = { Id: record.id, Warnings: warnings };
    sendJson(res, 201, created);
  });

  routes.add('GET', '/containers/{id}/json', async ({ res, params, query }) => {
    const record = containers.inspect(params.id);
    const sizes = query.bool('size') ? await containers.sizes(record) : undefined;
    sendJson(res, 200, containerInspect(record, await containers.graphDriverData(record), execs.idsOf(record.id), sizes));
  });

  routes.add('POST', '/containers/{id}/start', async ({ res, params }) => {
    await containers.startContainer(params.id);
    sendEmpty(res, 204);
  });

  routes.add('POST', '/containers/{id}/stop', async ({ res, params, query }) => {
    await containers.stop(params.id, decodeStopOptions(query));
    sendEmpty(res, 204);
  });

  routes.add('POST', '/containers/{id}/restart', async ({ res, params, query }) => {
    await containers.restart(params.id, decodeStopOptions(query));
    sendEmpty(res, 204);
  });

  routes.add('POST', '/containers/{id}/pause', async ({ res, params }) => {
    await containers.pause(params.id);
    sendEmpty(res, 204);
  });

  routes.add('POST', '/containers/{id}/unpause', async ({ res, params }) => {
    await containers.unpause(params.id);
    sendEmpty(res, 204);
  });

  routes.add('POST', '/containers/{id}/rename', async ({ res, params, query }) => {
    const name = query.string('name');
    if (!name) throw invalidParameter('Neither old nor new names may be empty');
    await containers.rename(params.id, name);
    sendEmpty(res, 204);
  });

  routes.add('POST', '/containers/{id}/kill', async ({ res, params, query }) => {
    await containers.kill(params.id, decodeKillSignal(query));
    sendEmpty(res, 204);
  });

  routes.add('DELETE', '/containers/{id}', async ({ res, params, query }) => {
    await containers.remove(params.id, { force: query.bool('force'), volumes: query.bool('v') });
    sendEmpty(res, 204);
  });

  routes.add('POST', '/containers/{id}/resize', async ({ res, params, query }) => {
    const { height, width } = decodeResize(query);
    await containers.resize(params.id, height, width);
    res.writeHead(200, { 'Content-Length': 0 });
    res.end();
  });

  routes.add('POST', '/containers/{id}/wait', async ({ res, params, query, signal }) => {
    const result = containers.wait(params.id, decodeWaitCondition(query), signal);
    // The docker CLI sends `start` only once these headers arrive: flush them now.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    res.end(JSON.stringify(waitResponse(await result)) + '\n');
  });

  routes.add('GET', '/containers/{id}/logs', async ({ res, params, query, signal, version }) => {
    const timestamps = query.bool('timestamps');
    const { record, entries } = containers.logs(params.id, decodeLogOptions(query), signal);
    const tty = record.config.Tty;
    const details = query.bool('details') ? detailsPrefix(record.hostConfig.LogConfig, record.config.Labels, record.config.Env ?? []) : undefined;
    res.writeHead(200, { 'Content-Type': outputContentType(tty, version) });
    res.flushHeaders();
    for await (const entry of entries) {
      // moby's order: the timestamp, the details, the line.
      const parts = [timestamps ? Buffer.from(`${entry.timestamp} `) : undefined, details, entry.payload].filter((p) => p !== undefined);
      const payload = parts.length === 1 ? entry.payload : Buffer.concat(parts);
      if (!res.write(tty ? payload : frame(streamNumber(entry.stream), payload))) await drained(res);
      if (res.destroyed) break; // leaving the loop closes the reader (its file and watcher)
    }
    res.end();
  });
}
