/**
 * Which containers `GET /containers/json` and `POST /containers/prune` take, by moby's rules
 * (daemon/list.go foldFilter and includeContainerInList, and the prune filters): every filter
 * `docker ps` has, checked first (a bad value changes nothing and is Docker's 400), then applied
 * to the containers newest first in one pass.
 */
import { invalidParameter, notFound, wrap } from '../../common/errors.js';
import { goAtoi } from '../../common/go-strconv.js';
import { boolFilter, checkFilters, filterValues, labelsMatch, regexFilter, type Filters } from '../filters.js';
import { ZERO_TIME, type ContainerRecord } from './model.js';

export interface ListOptions {
  /** Stopped containers too (`docker ps -a`). */
  all: boolean;
  /** The newest N, stopped ones included (`docker ps -n N`); 0 or absent means no limit. */
  limit?: number;
  filters: Filters;
}

/** What a list needs to know beyond the records: images by reference, containers by id or name. */
export interface ListLookups {
  imageIdOf(ref: string): string | undefined;
  find(idOrName: string): ContainerRecord | undefined;
}

const LIST_FILTERS = ['ancestor', 'before', 'exited', 'id', 'isolation', 'label', 'name', 'status', 'health', 'since', 'volume', 'network', 'is-task', 'publish', 'expose'];
const PRUNE_FILTERS = ['label'];
const STATUSES = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];
const HEALTH_STATUSES = ['none', 'starting', 'healthy', 'unhealthy'];

/** The networks a container is on, by name and id (ps's network filter takes either). */
export function containerNetworks(record: ContainerRecord): string[] {
  return Object.entries(record.networks ?? {}).flatMap(([name, endpoint]) => [name, endpoint.NetworkID]);
}

/** `publish`/`expose` values: "80", "80/udp", "8000-8010/tcp", as moby's portOp reads them; "port/proto" each. */
function portSet(filters: Filters, key: 'publish' | 'expose'): Set<string> {
  const ports = new Set<string>();
  for (const value of filterValues(filters, key)) {
    if (value.includes(':')) throw invalidParameter(`filter for '${key}' should not contain ':': ${value}`);
    const [range = '', proto = 'tcp'] = value.split('/');
    const match = /^(\d+)(?:-(\d+))?$/.exec(range);
    const start = Number(match?.[1]);
    const end = match?.[2] === undefined ? start : Number(match[2]);
    if (!match || start > 65535 || end > 65535 || end < start) throw invalidParameter(`error while looking up for ${key} ${value}: invalid port range: ${range}`);
    for (let port = start; port <= end; port++) ports.add(`${port}/${proto.toLowerCase()}`);
  }
  return ports;
}

/** The last value given for `before`/`since` (moby keeps the last), resolved as moby's idOrNameFilter. */
function boundary(filters: Filters, key: 'before' | 'since', lookups: ListLookups): ContainerRecord | undefined {
  const value = filterValues(filters, key).at(-1);
  if (value === undefined) return undefined;
  const found = lookups.find(value);
  if (!found) throw notFound(`No such container: ${value}`);
  return found;
}

/** Every filter checked and turned into a predicate; the position filters (before, since) and the limit are the caller's. */
function compile(filters: Filters, lookups: ListLookups): (record: ContainerRecord) => boolean {
  checkFilters(filters, LIST_FILTERS);
  const exited = filterValues(filters, 'exited').map((value) => {
    try {
      return goAtoi(value);
    } catch (err) {
      throw wrap(err, `invalid filter 'exited=${value}'`);
    }
  });
  const statuses = filterValues(filters, 'status');
  for (const status of statuses) {
    if (!STATUSES.includes(status)) {
      throw invalidParameter(`invalid filter 'status=${status}': invalid value for state (${status}): must be one of ${STATUSES.join(', ')}`);
    }
  }
  const isTask = boolFilter(filters, 'is-task');
  const health = filterValues(filters, 'health');
  for (const value of health) {
    if (!HEALTH_STATUSES.includes(value)) {
      throw invalidParameter(`invalid filter 'health=${value}': invalid value for health (${value}): must be one of ${HEALTH_STATUSES.join(', ')}`);
    }
  }
  const published = portSet(filters, 'publish');
  const exposed = portSet(filters, 'expose');
  const names = filterValues(filters, 'name').map(regexFilter);
  const ids = filterValues(filters, 'id').map(regexFilter);
  const labels = filterValues(filters, 'label');
  const ancestors = filterValues(filters, 'ancestor').map((ref) => lookups.imageIdOf(ref));
  const volumes = filterValues(filters, 'volume');
  const networks = filterValues(filters, 'network');
  return (record) => {
    const { state } = record;
    if (names.length && !names.some((n) => n.test(record.name) || n.test(record.name.slice(1)))) return false;
    if (ids.length && !ids.some((id) => id.test(record.id))) return false;
    // No container of berthd is a swarm task.
    if (isTask === true) return false;
    if (!labelsMatch(record.config.Labels, labels)) return false;
    if (exited.length && (state.Running || state.StartedAt === ZERO_TIME || !exited.includes(state.ExitCode))) return false;
    if (statuses.length && !statuses.includes(state.Status)) return false;
    if (health.length && !health.includes(state.Health?.Status ?? 'none')) return false;
    // moby's: a mount's volume name (a bind's source) or its destination, exactly.
    if (volumes.length && !(record.mountPoints ?? []).some((p) => volumes.includes(p.Name || p.Source) || volumes.includes(p.Destination))) return false;
    if (ancestors.length && !ancestors.includes(record.image)) return false;
    if (networks.length && !containerNetworks(record).some((n) => networks.includes(n))) return false;
    // moby matches the container side of the ports: published ones of the run, exposed ones of the config.
    if (published.size && !(record.publishedPorts ?? []).some((p) => published.has(`${p.containerPort}/${p.protocol}`))) return false;
    if (exposed.size && !Object.keys(record.config.ExposedPorts ?? {}).some((key) => exposed.has(key.toLowerCase()))) return false;
    return true;
  };
}

/**
 * The containers a list shows, newest first. As moby: a status filter lists stopped containers
 * without `all`, and so does a limit; `before` takes those created before the given container,
 * `since` those created after it; isolation is accepted and, on Linux, takes every container.
 */
export function selectContainers(newestFirst: readonly ContainerRecord[], options: ListOptions, lookups: ListLookups): ContainerRecord[] {
  const matches = compile(options.filters, lookups);
  const before = boundary(options.filters, 'before', lookups);
  const since = boundary(options.filters, 'since', lookups);
  const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
  const withStopped = options.all || filterValues(options.filters, 'status').length > 0 || limit !== undefined;
  const selected: ContainerRecord[] = [];
  let pastBefore = before === undefined;
  for (const record of newestFirst) {
    if (!pastBefore) {
      pastBefore = record === before;
      continue;
    }
    if (record === since) break;
    if (!withStopped && !record.state.Running) continue;
    if (!matches(record)) continue;
    selected.push(record);
    if (selected.length === limit) break;
  }
  return selected;
}

/** The prune filter as a predicate on a stopped container. */
export function pruneMatcher(filters: Filters): (record: ContainerRecord) => boolean {
  checkFilters(filters, PRUNE_FILTERS);
  const labels = filterValues(filters, 'label');
  return (record) => labelsMatch(record.config.Labels, labels);
}
