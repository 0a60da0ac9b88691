import type { ServerResponse } from 'node:http';
import { invalidParameter } from '../../common/errors.js';
import type { ContainerService } from '../../engine/containers/service.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { Handler, RouteTable, UpgradeHandler } from '../router.js';
import { readJson, sendEmpty, sendJson, type Query } from '../http.js';
import { containerInspect, containerSummary, waitResponse } from '../views/container-views.js';
import { decodeContainerSpec } from '../decode/container-create.js';
import { decodeKillSignal, decodeResize, decodeStopOptions, decodeWaitCondition } from '../decode/container-queries.js';
import type { ContainerCreateResponse, ContainerPruneResponse } from '../../wire/containers.js';
import { frame, outputContentType, streamNumber } from '../stream-framing.js';
import { filterValues, labelsMatch, parseFilters, regexFilter, type Filters } from '../../engine/filters.js';
import { hijackAttach } from './attach-hijack.js';

/** "1700000000", "1700000000.5" or an RFC 3339 time → nanoseconds. */
function parseTime(value: string | undefined, name: string): bigint | undefined {
  if (value === undefined || value === '' || value === '0') return undefined;
  const unix = value.match(/^(\d+)(?:\.(\d{1,9}))?$/);
  if (unix) return BigInt(unix[1]) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0'));
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalidParameter(`invalid value for ${name}: ${value}`);
  return BigInt(ms) * 1_000_000n;
}

function parseTail(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value === 'all') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw invalidParameter(`invalid value for tail: ${value}`);
  return n < 0 ? undefined : n;
}

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

const CONTAINER_FILTERS = ['status', 'name', 'id', 'label', 'ancestor'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** The filters of GET /containers/json that apply without networks or volumes. */
function matchesFilters(record: ContainerRecord, filters: Filters, imageIdOf: (ref: string) => string | undefined): boolean {
  const status = filterValues(filters, 'status');
  if (status.length && !status.includes(record.state.Status)) return false;
  const names = filterValues(filters, 'name');
  if (names.length && !names.some((n) => regexFilter(n).test(record.name))) return false;
  const ids = filterValues(filters, 'id');
  if (ids.length && !ids.some((id) => record.id.startsWith(id))) return false;
  const ancestors = filterValues(filters, 'ancestor');
  if (ancestors.length && !ancestors.some((ref) => imageIdOf(ref) === record.image)) return false;
  return labelsMatch(record.config.Labels, filterValues(filters, 'label'));
}

/** As moby's foldFilter: a status filter lists stopped containers too; unknown statuses are refused. */
function listOptions(query: Query) {
  const filters = parseFilters(query.string('filters'), CONTAINER_FILTERS);
  const statuses = filterValues(filters, 'status');
  for (const status of statuses) {
    if (!STATUSES.includes(status)) throw invalidParameter(`invalid filter 'status=${status}'`);
  }
  return { all: query.bool('all') || statuses.length > 0, limit: query.int('limit'), filters };
}

/** `imageIdOf` resolves an `ancestor` filter's image name or id (undefined when unknown). */
export function containerRoutes(
  routes: RouteTable<Handler>,
  upgrades: RouteTable<UpgradeHandler>,
  containers: ContainerService,
  imageIdOf: (ref: string) => string | undefined,
): void {
  routes.add('GET', '/containers/json', async ({ res, query }) => {
    const { all, limit, filters } = listOptions(query);
    let list = containers.list().filter((c) => (all || c.state.Running || (limit ?? 0) > 0) && matchesFilters(c, filters, imageIdOf));
    if (limit !== undefined && limit > 0) list = list.slice(0, limit);
    const sizes = query.bool('size') ? await Promise.all(list.map((c) => containers.sizes(c))) : [];
    sendJson(res, 200, list.map((c, i) => containerSummary(c, sizes[i])));
  });

  routes.add('POST', '/containers/prune', async ({ res, query }) => {
    const filters = parseFilters(query.string('filters'), ['label']);
    const labels = filterValues(filters, 'label');
    const { removed, spaceReclaimed } = await containers.prune((record) => labelsMatch(record.config.Labels, labels));
    const pruned: ContainerPruneResponse = { ContainersDeleted: removed.length > 0 ? removed : null, SpaceReclaimed: spaceReclaimed };
    sendJson(res, 200, pruned);
  });

  routes.add('POST', '/containers/create', async ({ req, res, query }) => {
    const spec = decodeContainerSpec(await readJson(req));
    const { record, warnings } = await containers.create(spec, query.string('name'));
    const created: ContainerCreateResponse = { Id: record.id, Warnings: warnings };
    sendJson(res, 201, created);
  });

  routes.add('GET', '/containers/{id}/json', async ({ res, params, query }) => {
    const record = containers.inspect(params.id);
    const sizes = query.bool('size') ? await containers.sizes(record) : undefined;
    sendJson(res, 200, containerInspect(record, await containers.graphDriverData(record), sizes));
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
    await containers.remove(params.id, { force: query.bool('force') });
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
    const stdout = query.bool('stdout');
    const stderr = query.bool('stderr');
    if (!stdout && !stderr) throw invalidParameter('Bad parameters: you must choose at least one stream');
    const timestamps = query.bool('timestamps');
    const { record, entries } = containers.logs(
      params.id,
      {
        stdout,
        stderr,
        follow: query.bool('follow'),
        sinceNs: parseTime(query.string('since'), 'since'),
        untilNs: parseTime(query.string('until'), 'until'),
        tail: parseTail(query.string('tail')),
      },
      signal,
    );
    const tty = record.config.Tty;
    res.writeHead(200, { 'Content-Type': outputContentType(tty, version) });
    res.flushHeaders();
    for await (const entry of entries) {
      const payload = timestamps ? Buffer.concat([Buffer.from(`${entry.timestamp} `), entry.payload]) : entry.payload;
      if (!res.write(tty ? payload : frame(streamNumber(entry.stream), payload))) await drained(res);
      if (res.destroyed) break; // leaving the loop closes the reader (its file and watcher)
    }
    res.end();
  });

  const attach: UpgradeHandler = (ctx) => hijackAttach(ctx, containers);
  upgrades.add('POST', '/containers/{id}/attach', attach);
}
