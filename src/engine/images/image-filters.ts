/** Which images GET /images/json and POST /images/prune take, by their `filters` (moby's rules). */
import { invalidParameter } from '../../common/errors.js';
import { goTimestamp } from '../../common/go-timestamp.js';
import { boolFilter, checkFilters, filterValues, globMatch, labelsMatch, type Filters } from '../filters.js';
import type { Image } from './image-store.js';

const LIST_FILTERS = ['reference', 'dangling', 'label', 'before', 'since', 'until'];
const PRUNE_FILTERS = ['dangling', 'label', 'label!', 'until'];

/** moby's reference.FamiliarMatch: the pattern against "name:tag" or just "name". */
function referenceMatches(pattern: string, familiarTag: string): boolean {
  const name = familiarTag.slice(0, familiarTag.lastIndexOf(':'));
  return globMatch(pattern, familiarTag) || globMatch(pattern, name);
}

function createdMs(image: Image): number {
  return image.config.created ? Date.parse(image.config.created) : 0;
}

/** `until` values: only images created before the earliest of them (a time or a duration ago). */
function untilMs(filters: Filters): number | undefined {
  const times = filterValues(filters, 'until').map((value) => {
    const nanos = goTimestamp(value);
    if (nanos === undefined) throw invalidParameter(`failed to parse value as time or duration: "${value}"`);
    return Number(nanos / 1_000_000n);
  });
  return times.length > 0 ? Math.min(...times) : undefined;
}

/**
 * The list filter: for an image and its names, undefined when the image is left out, else the
 * names to show (a `reference` filter shows only the names that match, and drops an image with
 * none). `before` and `since` name images, found with `resolve` (which throws for an unknown one).
 */
export function imageListFilter(filters: Filters, resolve: (name: string) => Image): (image: Image, repoTags: string[]) => string[] | undefined {
  checkFilters(filters, LIST_FILTERS);
  const references = filterValues(filters, 'reference');
  const dangling = boolFilter(filters, 'dangling');
  const labels = filterValues(filters, 'label');
  const before = filterValues(filters, 'before').map((name) => createdMs(resolve(name)));
  const since = filterValues(filters, 'since').map((name) => createdMs(resolve(name)));
  const until = untilMs(filters);
  return (image, repoTags) => {
    const created = createdMs(image);
    if (before.some((limit) => created >= limit) || since.some((limit) => created <= limit)) return undefined;
    if (until !== undefined && created >= until) return undefined;
    if (dangling !== undefined && dangling !== (repoTags.length === 0)) return undefined;
    if (!labelsMatch(image.config.config?.Labels, labels)) return undefined;
    if (references.length === 0) return repoTags;
    const shown = repoTags.filter((tag) => references.some((pattern) => referenceMatches(pattern, tag)));
    return shown.length > 0 ? shown : undefined;
  };
}

/**
 * Prune takes only untagged images unless `dangling=false` (`docker image prune -a`); every
 * `label` must hold, the `label!` ones must not all hold, and `until` keeps newer images.
 */
export function imagePruneFilter(filters: Filters): { danglingOnly: boolean; matches: (image: Image) => boolean } {
  checkFilters(filters, PRUNE_FILTERS);
  const labels = filterValues(filters, 'label');
  const notLabels = filterValues(filters, 'label!');
  const until = untilMs(filters);
  return {
    danglingOnly: boolFilter(filters, 'dangling') ?? true,
    matches: (image) => {
      const imageLabels = image.config.config?.Labels;
      if (until !== undefined && createdMs(image) >= until) return false;
      if (notLabels.length > 0 && labelsMatch(imageLabels, notLabels)) return false;
      return labelsMatch(imageLabels, labels);
    },
  };
}
