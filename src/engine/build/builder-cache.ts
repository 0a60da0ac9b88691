/**
 * The classic builder's step cache: a step's key (cache-key.ts: parent image + probe config)
 * → the image the step made. Kept in one JSON file under the builder's folder, rewritten
 * atomically after each new entry, so it survives a daemon restart. An entry whose image was
 * deleted meanwhile (`rmi`, `image prune`) is a miss and is dropped.
 */
import { join } from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../../common/atomic-file.js';

const CACHE_FILE = 'cache.json';

interface CacheFile {
  steps: Record<string, string>;
}

export class BuildCache {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    private readonly steps: Map<string, string>,
  ) {}

  static async open(dir: string): Promise<BuildCache> {
    const path = join(dir, CACHE_FILE);
    const file = await readJsonIfExists<CacheFile>(path);
    return new BuildCache(path, new Map(Object.entries(file?.steps ?? {})));
  }

  /** The image id cached for `key`, if that image still exists (`exists` tells). */
  lookup(key: string, exists: (imageId: string) => boolean): string | undefined {
    const imageId = this.steps.get(key);
    if (imageId === undefined) return undefined;
    if (exists(imageId)) return imageId;
    this.steps.delete(key);
    return undefined;
  }

  async remember(key: string, imageId: string): Promise<void> {
    this.steps.set(key, imageId);
    await this.save();
  }

  /** Drops the entries of images that are gone; returns how many went. */
  async forgetMissing(exists: (imageId: string) => boolean): Promise<number> {
    let dropped = 0;
    for (const [key, imageId] of this.steps) {
      if (exists(imageId)) continue;
      this.steps.delete(key);
      dropped++;
    }
    if (dropped > 0) await this.save();
    return dropped;
  }

  /** Every image the cache refers to (for `builder prune`). */
  images(): Set<string> {
    return new Set(this.steps.values());
  }

  async clear(): Promise<void> {
    this.steps.clear();
    await this.save();
  }

  /** Writes one after the other, each with the map as it is then: the last write holds every entry. */
  private save(): Promise<void> {
    const next = this.writing.then(() => writeJsonAtomic(this.path, { steps: Object.fromEntries(this.steps) } satisfies CacheFile));
    this.writing = next.catch(() => undefined);
    return next;
  }
}
