/**
 * `docker builder prune` for the classic builder's cache: the cache entries go, and with them
 * the intermediate images they name that nothing else holds (no tag, no container, no child
 * image left) — newest first, so a chain of steps goes from its last step down. Without `all`
 * only entries whose image has no tag go (Docker keeps what a named image is made of
 * reachable); `until` keeps entries whose image was made at or after that time. With `keepBytes`
 * entries go (in the same order: a step can only go once the steps made over it have) until the
 * cache's own layers take at most that many bytes.
 */
import type { Image, ImageStore, ImageUser } from '../images/image-store.js';
import type { BuildCache } from './builder-cache.js';

export interface PruneOptions {
  all: boolean;
  /** Epoch milliseconds: entries of images made from then on stay. */
  until?: number;
  /** `reserved-space` (`keep-storage` before API 1.48) or `max-used-space`: bytes the cache may keep. */
  keepBytes?: number;
}

export interface PruneResult {
  deleted: string[];
  spaceReclaimed: number;
}

/** Bytes the image's own top layer holds (none when it added no layer to its parent's). */
function ownLayerSize(images: ImageStore, image: Image): number {
  const top = image.chainIds.at(-1);
  const parent = image.parent ? images.byId(image.parent) : undefined;
  if (top === undefined || parent?.chainIds.at(-1) === top) return 0;
  try {
    return images.layerSize(top);
  } catch {
    return 0;
  }
}

/** One entry of /system/df's BuildCache, as Docker's BuildCache object. */
export interface BuildCacheRecord {
  ID: string;
  Parents: string[] | null;
  Type: 'regular';
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
}

/** The cached step images, for `system df` (-v lists them). */
export function buildCacheRecords(cache: BuildCache, images: ImageStore, users: (imageId: string) => ImageUser[]): BuildCacheRecord[] {
  return [...cache.images()]
    .map((id) => images.byId(id))
    .filter((image): image is Image => image !== undefined)
    .map((image) => ({
      ID: image.id.replace(/^sha256:/, ''),
      Parents: image.parent ? [image.parent.replace(/^sha256:/, '')] : null,
      Type: 'regular',
      Description: image.config.history?.at(-1)?.created_by ?? '',
      InUse: users(image.id).length > 0,
      // Shared: a tagged image (or another build's step) is made of it too.
      Shared: images.repoTags(image.id).length > 0 || images.children(image.id).length > 0,
      Size: ownLayerSize(images, image),
      CreatedAt: image.config.created ?? '',
      LastUsedAt: null,
      UsageCount: 0,
    }));
}

/** Bytes the cached step images' own layers take. */
function cachedBytes(cache: BuildCache, images: ImageStore): number {
  let total = 0;
  for (const id of cache.images()) {
    const image = images.byId(id);
    if (image) total += ownLayerSize(images, image);
  }
  return total;
}

export async function pruneBuildCache(
  cache: BuildCache,
  images: ImageStore,
  users: (imageId: string) => ImageUser[],
  options: PruneOptions,
): Promise<PruneResult> {
  const candidates = [...cache.images()]
    .map((id) => images.byId(id))
    .filter((image): image is Image => image !== undefined)
    .filter((image) => options.all || images.repoTags(image.id).length === 0)
    .filter((image) => options.until === undefined || Date.parse(image.config.created ?? '') < options.until)
    .sort((a, b) => (b.config.created ?? '').localeCompare(a.config.created ?? ''));
  let cached = options.keepBytes === undefined ? 0 : cachedBytes(cache, images);
  const deleted: string[] = [];
  let spaceReclaimed = 0;
  for (const image of candidates) {
    if (options.keepBytes !== undefined && cached <= options.keepBytes) break;
    cache.forget(image.id);
    if (images.repoTags(image.id).length > 0 || users(image.id).length > 0 || images.children(image.id).length > 0) continue;
    const size = ownLayerSize(images, image);
    await images.remove(image.id, { force: false, noPrune: true }, users);
    deleted.push(image.id);
    spaceReclaimed += size;
    cached -= size;
  }
  await cache.save();
  return { deleted, spaceReclaimed };
}
