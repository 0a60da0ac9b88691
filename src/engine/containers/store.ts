import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, invalidParameter, notFound } from '../../common/errors.js';
import { readJsonIfExists, removeInterruptedWrites, writeJsonAtomic } from '../../common/atomic-file.js';
import { FULL_ID } from '../../common/ids.js';
import type { ContainerRecord } from './model.js';
import { removeTree } from '../../native/index.js';

const RECORD_FILE = 'config.v2.json';
/** A record holds the container's environment (often secrets): root only, as dockerd keeps it. */
const DIR_MODE = 0o700;
const RECORD_MODE = 0o600;

/** Containers by id, with the name index, persisted one folder per container. */
export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly idByName = new Map<string, string>();

  private constructor(readonly root: string) {}

  static async open(root: string): Promise<ContainerStore> {
    const store = new ContainerStore(root);
    await mkdir(root, { recursive: true });
    for (const entry of await readdir(root)) {
      if (!FULL_ID.test(entry)) continue;
      const record = await readJsonIfExists<ContainerRecord>(join(root, entry, RECORD_FILE));
      // A folder without a record is a create that crashed before it finished: nothing to keep.
      if (!record) {
        await rm(join(root, entry), { recursive: true, force: true });
        continue;
      }
      await removeInterruptedWrites(join(root, entry));
      // Folders made by an older berthd (or under a wider umask) are tightened.
      await chmod(join(root, entry), DIR_MODE);
      await chmod(join(root, entry, RECORD_FILE), RECORD_MODE);
      store.byId.set(record.id, record);
      store.idByName.set(record.name, record.id);
    }
    return store;
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Makes a new container's folder, root only. */
  async makeDir(id: string): Promise<string> {
    const dir = this.dir(id);
    await mkdir(dir, { mode: DIR_MODE }); // a umask can only narrow it further
    return dir;
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  get count(): number {
    return this.byId.size;
  }

  /** Reserves a name; 409 with Docker's message when another container holds it. */
  reserveName(name: string, id: string): void {
    const holder = this.idByName.get(name);
    if (holder && holder !== id) {
      throw conflict(
        `Conflict. The container name "${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    this.idByName.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.idByName.get(name) === id) this.idByName.delete(name);
  }

  hasName(name: string): boolean {
    return this.idByName.has(name);
  }

  /** By full id only (no names, no prefixes). */
  get(id: string): ContainerRecord | undefined {
    return this.byId.get(id);
  }

  /** By full id, exact name, or unique id prefix — the order moby's GetContainer uses. */
  resolve(idOrName: string): ContainerRecord {
    const found = this.find(idOrName);
    if (!found) throw notFound(`No such container: ${idOrName}`);
    return found;
  }

  find(idOrName: string): ContainerRecord | undefined {
    if (idOrName === '') return undefined;
    const exact = this.byId.get(idOrName);
    if (exact) return exact;
    const byName = this.idByName.get(idOrName.startsWith('/') ? idOrName : `/${idOrName}`);
    if (byName) return this.byId.get(byName);
    if (!/^[0-9a-f]+$/.test(idOrName)) return undefined;
    const matches = [...this.byId.keys()].filter((id) => id.startsWith(idOrName));
    if (matches.length > 1) throw invalidParameter(`Multiple IDs found with provided prefix: ${idOrName}`);
    return matches.length === 1 ? this.byId.get(matches[0]) : undefined;
  }

  add(record: ContainerRecord): void {
    this.byId.set(record.id, record);
  }

  /**
   * Persists a record. `durable: false` is for state changes on the start path, which a restart
   * reconciles from conmon's files anyway; creation and exits are written durably.
   */
  async save(record: ContainerRecord, options?: { durable?: boolean }): Promise<void> {
    // The folder is made by create and goes with delete: a late save must not bring it back.
    await writeJsonAtomic(join(this.dir(record.id), RECORD_FILE), record, { ...options, mode: RECORD_MODE, createDir: false });
  }

  /**
   * Deletes the record; its folder (log, etc files) goes with removeDir, which the caller runs
   * beside the rest of the teardown. A crash in between leaves a folder without a record, which
   * open() sweeps up.
   */
  async delete(record: ContainerRecord): Promise<void> {
    await rm(join(this.dir(record.id), RECORD_FILE), { force: true });
    this.byId.delete(record.id);
    this.releaseName(record.name, record.id);
  }

  /** The folder of a deleted record. */
  async removeDir(id: string): Promise<void> {
    await removeTree(this.dir(id));
  }
}
