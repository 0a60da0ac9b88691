import { join } from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../../common/atomic-file.js';

/**
 * Which image id each tag points at, keyed by canonical reference
 * ("docker.io/library/busybox:latest"). One small JSON file, rewritten atomically on change.
 */
export class TagStore {
  private constructor(
    private readonly file: string,
    private readonly tags: Map<string, string>,
  ) {}

  static async open(root: string): Promise<TagStore> {
    const file = join(root, 'repositories.json');
    const saved = (await readJsonIfExists<Record<string, string>>(file)) ?? {};
    return new TagStore(file, new Map(Object.entries(saved)));
  }

  get(reference: string): string | undefined {
    return this.tags.get(reference);
  }

  /** Canonical references pointing at an image, sorted for stable output. */
  referencesTo(imageId: string): string[] {
    return [...this.tags].filter(([, id]) => id === imageId).map(([ref]) => ref).sort();
  }

  async set(reference: string, imageId: string): Promise<void> {
    // As moby's reference store: a tag that already points at the image is not written again.
    if (this.tags.get(reference) === imageId) return;
    this.tags.set(reference, imageId);
    await this.save();
  }

  async delete(reference: string): Promise<boolean> {
    if (!this.tags.delete(reference)) return false;
    await this.save();
    return true;
  }

  private async save(): Promise<void> {
    await writeJsonAtomic(this.file, Object.fromEntries(this.tags));
  }
}
