/**
 * Which containers `GET /containers/json` and `POST /containers/prune` take, by moby's rules
 * (daemon/list.go foldFilter and the prune filters): the status, name, id, label and ancestor
 * filters that apply without networks or volumes.
 */
import { invalidParameter } from '../../common/errors.js';
import { checkFilters, filterValues, labelsMatch, regexFilter, type Filters } from '../filters.js';
import type { ContainerRecord } from './model.js';

export interface ListOptions {
  /** Stopped containers too (`docker ps -a`). */
  all: boolean;
  /** The newest N, stopped ones included (`docker ps -n N`); 0 or absent means no limit. */
  limit?: number;
  filters: Filters;
}

const LIST_FILTERS = ['status', 'name', 'id', 'label', 'ancestor'];
const PRUNE_FILTERS = ['label'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

function matches(record: ContainerRecord, filters: Filters, imageIdOf: (ref: string) => string | undefined): boolean {
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

/**
 * The containers a list shows, newest first. As moby: a status filter lists stopped containers
 * without `all`, and so does a limit; an unknown filter or status is refused.
 */
export function selectContainers(
  newestFirst: readonly ContainerRecord[],
  options: ListOptions,
  imageIdOf: (ref: string) => string | undefined,
): ContainerRecord[] {
  checkFilters(options.filters, LIST_FILTERS);
  const statuses = filterValues(options.filters, 'status');
  for (const status of statuses) {
    if (!STATUSES.includes(status)) throw invalidParameter(`invalid filter 'status=${status}'`);
  }
  const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
  const withStopped = options.all || statuses.length > 0 || limit !== undefined;
  const selected = newestFirst.filter((c) => (withStopped || c.state.Running) && matches(c, options.filters, imageIdOf));
  return limit === undefined ? selected : selected.slice(0, limit);
}

/** The prune filter as a predicate on a stopped container. */
export function pruneMatcher(filters: Filters): (record: ContainerRecord) => boolean {
  checkFilters(filters, PRUNE_FILTERS);
  const labels = filterValues(filters, 'label');
  return (record) => labelsMatch(record.config.Labels, labels);
}
