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

  /** Every image the cache refers to (for `builder prune`). */
  images(): Set<string> {
    return new Set(this.steps.values());
  }

  /** Drops the entries naming `imageId` (kept in memory until the next save). */
  forget(imageId: string): void {
    for (const [key, id] of this.steps) if (id === imageId) this.steps.delete(key);
  }

  /** Writes one after the other, each with the map as it is then: the last write holds every entry. */
  save(): Promise<void> {
    const next = this.writing.then(() => writeJsonAtomic(this.path, { steps: Object.fromEntries(this.steps) } satisfies CacheFile));
    this.writing = next.catch(() => undefined);
    return next;
  }
}
