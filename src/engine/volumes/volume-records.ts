/**
 * What berthd keeps about each volume besides its driver's data: name, driver, labels, options
 * and creation time, one file per volume under DATA/volumes/_meta (a name no local volume can
 * take: they start with a letter or digit). Written atomically; read once at start.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, readJsonIfExists, removeInterruptedWrites, writeJsonAtomic } from '../../common/atomic-file.js';

export interface VolumeRecord {
  Name: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  /** RFC 3339, seconds, as moby's CreatedAt. */
  CreatedAt: string;
}

export class VolumeRecords {
  private readonly records = new Map<string, VolumeRecord>();

  private constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<VolumeRecords> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await removeInterruptedWrites(dir);
    const store = new VolumeRecords(dir);
    for (const file of await readdir(dir)) {
      if (!file.endsWith('.json')) continue;
      const record = await readJsonIfExists<VolumeRecord>(join(dir, file));
      if (record) store.records.set(record.Name, record);
    }
    return store;
  }

  private file(name: string): string {
    return join(this.dir, `${encodeURIComponent(name)}.json`);
  }

  get(name: string): VolumeRecord | undefined {
    return this.records.get(name);
  }

  all(): VolumeRecord[] {
    return [...this.records.values()];
  }

  async save(record: VolumeRecord): Promise<void> {
    await writeJsonAtomic(this.file(record.Name), record, { mode: 0o600 });
    this.records.set(record.Name, record);
  }

  async delete(name: string): Promise<void> {
    await rm(this.file(name), { force: true });
    await fsyncDir(this.dir);
    this.records.delete(name);
  }
}
