/**
 * Which repositories each blob is known to be in (moby's v2 metadata service): pulled from or
 * pushed to. A push to another repository of the same registry then mounts the blob instead of
 * uploading it. One small JSON file, rewritten atomically; losing it only costs uploads.
 */
import { join } from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../../common/atomic-file.js';

/** Repositories remembered per blob: enough to find a mount source, bounded so the file stays small. */
const MAX_SOURCES = 5;

export class BlobSources {
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly sources: Map<string, string[]>,
  ) {}

  static async open(dir: string): Promise<BlobSources> {
    const file = join(dir, 'blob-sources.json');
    const saved = (await readJsonIfExists<Record<string, string[]>>(file)) ?? {};
    return new BlobSources(file, new Map(Object.entries(saved)));
  }

  /** Repositories ("registry/path") holding `digest`, newest first. */
  get(digest: string): string[] {
    return this.sources.get(digest) ?? [];
  }

  async add(digests: string[], repository: string): Promise<void> {
    let changed = false;
    for (const digest of digests) {
      const list = this.get(digest);
      if (list[0] === repository) continue;
      this.sources.set(digest, [repository, ...list.filter((r) => r !== repository)].slice(0, MAX_SOURCES));
      changed = true;
    }
    if (!changed) return;
    const snapshot = Object.fromEntries(this.sources);
    this.writing = this.writing.then(() => writeJsonAtomic(this.file, snapshot), () => writeJsonAtomic(this.file, snapshot));
    await this.writing;
  }
}
