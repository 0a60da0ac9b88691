/** Which images GET /images/json and POST /images/prune take, by their `filters` (moby's rules). */
import { boolFilter, checkFilters, filterValues, globMatch, labelsMatch, type Filters } from '../filters.js';
import type { Image } from './image-store.js';

const LIST_FILTERS = ['reference', 'dangling', 'label'];
const PRUNE_FILTERS = ['dangling', 'label'];

/** moby's reference.FamiliarMatch: the pattern against "name:tag" or just "name". */
function referenceMatches(pattern: string, familiarTag: string): boolean {
  const name = familiarTag.slice(0, familiarTag.lastIndexOf(':'));
  return globMatch(pattern, familiarTag) || globMatch(pattern, name);
}

/**
 * The list filter: for an image and its names, undefined when the image is left out, else the
 * names to show (a `reference` filter shows only the names that match, and drops an image with none).
 */
export function imageListFilter(filters: Filters): (image: Image, repoTags: string[]) => string[] | undefined {
  checkFilters(filters, LIST_FILTERS);
  const references = filterValues(filters, 'reference');
  const dangling = boolFilter(filters, 'dangling');
  const labels = filterValues(filters, 'label');
  return (image, repoTags) => {
    if (dangling !== undefined && dangling !== (repoTags.length === 0)) return undefined;
    if (!labelsMatch(image.config.config?.Labels, labels)) return undefined;
    if (references.length === 0) return repoTags;
    const shown = repoTags.filter((tag) => references.some((pattern) => referenceMatches(pattern, tag)));
    return shown.length > 0 ? shown : undefined;
  };
}

/** Prune takes only untagged images unless `dangling=false` (`docker image prune -a`). */
export function imagePruneFilter(filters: Filters): { danglingOnly: boolean; matches: (image: Image) => boolean } {
  checkFilters(filters, PRUNE_FILTERS);
  const labels = filterValues(filters, 'label');
  return {
    danglingOnly: boolFilter(filters, 'dangling') ?? true,
    matches: (image) => labelsMatch(image.config.config?.Labels, labels),
  };
}
