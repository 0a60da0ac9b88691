/**
 * Networks by id and name, persisted as DATA/networks/<id>.json (atomic writes). The predefined
 * bridge, host and none networks are made at open; the default bridge takes the daemon's
 * settings (bridge name, bip, mtu, icc) on every start, keeping its id.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ambiguous, networkNotFound } from './errors.js';
import { readJsonIfExists, removeInterruptedWrites, writeJsonAtomic } from '../../common/atomic-file.js';
import { FULL_ID, newId } from '../../common/ids.js';
import type { NetworkRecord } from './model.js';

export class NetworkStore {
  private readonly byId = new Map<string, NetworkRecord>();

  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<NetworkStore> {
    const store = new NetworkStore(root);
    await mkdir(root, { recursive: true });
    await removeInterruptedWrites(root);
    for (const entry of await readdir(root)) {
      const id = entry.replace(/\.json$/, '');
      if (!FULL_ID.test(id)) continue;
      const record = await readJsonIfExists<NetworkRecord>(join(root, entry));
      if (record) store.byId.set(record.Id, record);
    }
    return store;
  }

  all(): NetworkRecord[] {
    return [...this.byId.values()];
  }

  byName(name: string): NetworkRecord | undefined {
    return this.all().find((n) => n.Name === name);
  }

  get(id: string): NetworkRecord | undefined {
    return this.byId.get(id);
  }

  /** As moby's FindNetwork: full id, then exact name, then a unique id prefix. */
  find(term: string): NetworkRecord | undefined {
    const exact = this.byId.get(term) ?? this.byName(term);
    if (exact) return exact;
    const byPrefix = term === '' ? [] : this.all().filter((n) => n.Id.startsWith(term));
    if (byPrefix.length > 1) throw ambiguous(term, byPrefix.length);
    return byPrefix[0];
  }

  resolve(term: string): NetworkRecord {
    const found = this.find(term);
    if (!found) throw networkNotFound(term);
    return found;
  }

  newId(): string {
    for (;;) {
      const id = newId();
      // As moby: an id whose short form reads as a number is not handed out (it would look like a prefix of nothing).
      if (!this.byId.has(id) && !/^\d+$/.test(id.slice(0, 12))) return id;
    }
  }

  async save(record: NetworkRecord): Promise<void> {
    await writeJsonAtomic(join(this.root, `${record.Id}.json`), record);
    this.byId.set(record.Id, record);
  }

  async delete(record: NetworkRecord): Promise<void> {
    await rm(join(this.root, `${record.Id}.json`), { force: true });
    this.byId.delete(record.Id);
  }
}
