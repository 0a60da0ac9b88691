/**
 * The classic builder's step cache: a step's key (cache-key.ts: parent image + probe config)
 * → the image the step made. Kept in one JSON file under the builder's folder, rewritten
 * atomically after new entries, so it survives a daemon restart. An entry whose image was
 * deleted meanwhile (`rmi`, `image prune`) is a miss and is dropped.
 *
 * Writes are coalesced: one at a time, and the entries added while one is under way go out
 * together in the next. A build does not wait for its steps' writes (each is a durable write:
 * two fsyncs, 8–35 ms on this machine's loaded disk), only for `flush` before it reports success.
 */
import { join } from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../../common/atomic-file.js';

const CACHE_FILE = 'cache.json';

interface CacheFile {
  steps: Record<string, string>;
}

export class BuildCache {
  /** The last write asked for (settled once every entry made before it is on disk, or it failed). */
  private last: Promise<void> = Promise.resolve();
  /** A write queued behind the one under way, not started yet: it will carry every entry made until it starts. */
  private queued: Promise<void> | undefined;

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

  /** Records the entry now; the promise settles once it is on disk. */
  remember(key: string, imageId: string): Promise<void> {
    this.steps.set(key, imageId);
    return this.save();
  }

  /** Every image the cache refers to (for `builder prune`). */
  images(): Set<string> {
    return new Set(this.steps.values());
  }

  /** Drops the entries naming `imageId` (kept in memory until the next save). */
  forget(imageId: string): void {
    for (const [key, id] of this.steps) if (id === imageId) this.steps.delete(key);
  }

  /** Writes the map as it is when the write starts; a call while one is queued joins that one. */
  save(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.last
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return writeJsonAtomic(this.path, { steps: Object.fromEntries(this.steps) } satisfies CacheFile);
      });
    this.queued = next;
    this.last = next;
    return next;
  }

  /**
   * Settles once every entry recorded so far is on disk. When the last write failed (a full
   * disk), the entries are written again now, so that one failure does not fail every later
   * build; rejects when that write fails too.
   */
  flush(): Promise<void> {
    return this.last.catch(() => this.save());
  }
}
