/**
 * The volume use cases (`docker volume create/ls/inspect/rm/prune`, the volumes containers make
 * and mount), over the drivers: `local` built in, plugins found by name. References — which
 * containers use a volume — are counted here, so that a volume in use is never removed; the
 * container side adds and drops them (container-volumes.ts) and rebuilds them at daemon start.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { exportRoot, extractArchive } from '../../archive/index.js';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, isKind, notFound, wrap } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { EventBus } from '../events/event-bus.js';
import { boolFilter, checkFilters, filterValues, labelsMatch, regexFilter, type Filters } from '../filters.js';
import { LocalVolumeDriver } from './local-driver.js';
import { ANONYMOUS_LABEL } from './mount-point.js';
import type { VolumeDriver } from './volume-driver.js';
import { VolumeRecords, type VolumeRecord } from './volume-records.js';
import { SerialExecutor } from '../containers/serial-executor.js';

/** A volume as the API shows it (moby's volume.Volume, UsageData aside). */
export interface Volume extends VolumeRecord {
  Mountpoint: string;
  Scope: 'local' | 'global';
  Status?: Record<string, unknown>;
}

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** Finds a volume plugin by name (Docker's legacy plugin discovery); undefined when there is none. */
export type PluginLookup = (name: string) => Promise<VolumeDriver | undefined>;

export interface VolumeServiceOptions {
  /** DATA/volumes */
  root: string;
  events: EventBus;
  logger: Logger;
  plugins?: PluginLookup;
}

const LIST_FILTERS = ['dangling', 'driver', 'label', 'name'];
const PRUNE_FILTERS = ['label', 'label!', 'all'];

/** RFC 3339 in seconds, as moby writes CreatedAt. */
function createdNow(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Bytes under a folder, each inode once (moby's directory.Size). */
async function folderSize(dir: string, seen = new Set<number>()): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const stats = await lstat(path).catch(() => undefined);
    if (!stats || seen.has(stats.ino)) continue;
    seen.add(stats.ino);
    total += entry.isDirectory() ? await folderSize(path, seen) : stats.size;
  }
  return total;
}

export class VolumeService {
  private readonly local: LocalVolumeDriver;
  private readonly plugins = new Map<string, VolumeDriver>();
  /** Containers using each volume, by volume name. */
  private readonly references = new Map<string, Set<string>>();
  /** Create and remove of one name run one at a time. */
  private readonly serial = new SerialExecutor();

  private constructor(
    private readonly options: VolumeServiceOptions,
    private readonly records: VolumeRecords,
    local: LocalVolumeDriver,
  ) {
    this.local = local;
  }

  static async open(options: VolumeServiceOptions): Promise<VolumeService> {
    const local = await LocalVolumeDriver.open(options.root);
    const records = await VolumeRecords.open(join(options.root, '_meta'));
    await local.reconcile(new Set(records.all().filter((record) => record.Driver === 'local').map((record) => record.Name)));
    return new VolumeService(options, records, local);
  }

  private async driver(name: string): Promise<VolumeDriver> {
    if (name === 'local' || name === '') return this.local;
    const known = this.plugins.get(name);
    if (known) return known;
    const found = await this.options.plugins?.(name);
    if (!found) throw notFound(`error looking up volume plugin ${name}: plugin "${name}" not found`);
    this.plugins.set(name, found);
    return found;
  }

  private publish(action: 'create' | 'destroy' | 'mount' | 'unmount' | 'prune', name: string, attributes: Record<string, string>): void {
    this.options.events.publish('volume', action, name, attributes);
  }

  /**
   * `docker volume create`, and the volumes containers name or make: an existing one is returned
   * as it is. `user`: the container that will use it, referenced in the same step, so that no
   * removal slips in between.
   */
  create(request: VolumeCreateRequest, user?: string): Promise<Volume> {
    const name = request.Name || randomBytes(32).toString('hex');
    const driverName = request.Driver || 'local';
    return this.serial.run(name, async () => {
      const existing = this.records.get(name);
      if (existing) {
        if (request.Driver && existing.Driver !== driverName) {
          throw conflict(`create ${name}: volume name must be unique: a volume with this name already exists with driver "${existing.Driver}"`);
        }
        if (user) this.reference(name, user);
        return this.view(existing);
      }
      const driver = await this.driver(driverName).catch((err) => {
        throw wrap(err, `create ${name}`);
      });
      const options = request.DriverOpts ?? {};
      try {
        await driver.create(name, options);
      } catch (err) {
        throw wrap(err, `create ${name}`);
      }
      const record: VolumeRecord = {
        Name: name,
        Driver: driverName,
        Labels: request.Labels ?? null,
        Options: Object.keys(options).length > 0 ? { ...options } : null,
        CreatedAt: createdNow(),
      };
      try {
        await this.records.save(record);
      } catch (err) {
        await driver.remove(name).catch(() => {});
        throw wrap(err, `create ${name}`);
      }
      this.publish('create', name, { driver: driverName });
      if (user) this.reference(name, user);
      return this.view(record);
    });
  }

  private async view(record: VolumeRecord): Promise<Volume> {
    const driver = await this.driver(record.Driver).catch(() => undefined);
    const [mountpoint, scope, status] = driver
      ? await Promise.all([driver.path(record.Name).catch(() => ''), driver.scope().catch(() => 'local' as const), driver.status?.(record.Name).catch(() => undefined)])
      : ['', 'local' as const, undefined];
    return { ...record, Mountpoint: mountpoint, Scope: scope, ...(status && { Status: status }) };
  }

  private record(name: string): VolumeRecord {
    const record = this.records.get(name);
    if (!record) throw notFound(`get ${name}: no such volume`);
    return record;
  }

  inspect(name: string): Promise<Volume> {
    return this.view(this.record(name));
  }

  has(name: string): boolean {
    return this.records.get(name) !== undefined;
  }

  /** Containers using a volume. */
  users(name: string): string[] {
    return [...(this.references.get(name) ?? [])];
  }

  /** `docker volume ls`: dangling, driver, label and name filters, as moby's. */
  async list(filters: Filters = {}): Promise<Volume[]> {
    checkFilters(filters, LIST_FILTERS);
    const dangling = boolFilter(filters, 'dangling');
    const drivers = filterValues(filters, 'driver');
    const labels = filterValues(filters, 'label');
    const names = filterValues(filters, 'name');
    await this.adoptPluginVolumes();
    const selected = this.records.all().filter(
      (record) =>
        (dangling === undefined || dangling === (this.users(record.Name).length === 0)) &&
        (drivers.length === 0 || drivers.includes(record.Driver)) &&
        labelsMatch(record.Labels, labels) &&
        (names.length === 0 || names.some((pattern) => pattern === record.Name || regexFilter(pattern).test(record.Name))),
    );
    return Promise.all(selected.map((record) => this.view(record)));
  }

  /** Volumes a plugin holds that berthd has no record of (made by another host, or by hand): recorded, as moby's store does. */
  private async adoptPluginVolumes(): Promise<void> {
    for (const driver of this.plugins.values()) {
      const names = await driver.list().catch((err) => {
        this.options.logger.warn('volume plugin did not list its volumes', { plugin: driver.name, err });
        return [] as string[];
      });
      for (const name of names) {
        if (this.records.get(name)) continue;
        await this.records.save({ Name: name, Driver: driver.name, Labels: null, Options: null, CreatedAt: createdNow() });
      }
    }
  }

  /** `docker volume rm`: 409 while a container uses it; with force a missing volume is no error. */
  remove(name: string, options: { force?: boolean } = {}): Promise<void> {
    return this.serial.run(name, async () => {
      const record = this.records.get(name);
      if (!record) {
        if (options.force) return;
        throw notFound(`get ${name}: no such volume`);
      }
      const users = this.users(name);
      if (users.length > 0) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      try {
        const driver = await this.driver(record.Driver);
        await driver.remove(name);
      } catch (err) {
        // A plugin that is gone cannot remove its volume; with force the record goes all the same (moby).
        if (!options.force) throw wrap(err, `remove ${name}`);
        this.options.logger.warn('volume driver failed to remove a volume; forgotten all the same', { name, err });
      }
      await this.records.delete(name);
      this.publish('destroy', name, { driver: record.Driver });
    });
  }

  /**
   * `docker volume prune`: unused volumes; only anonymous ones unless `all` (API 1.42 and later),
   * and those matching label filters.
   */
  async prune(filters: Filters = {}): Promise<{ deleted: string[]; reclaimed: number }> {
    checkFilters(filters, PRUNE_FILTERS);
    const all = boolFilter(filters, 'all') ?? false;
    const labels = filterValues(filters, 'label');
    const notLabels = filterValues(filters, 'label!');
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const record of this.records.all()) {
      if (this.users(record.Name).length > 0) continue;
      if (!all && !(record.Labels && ANONYMOUS_LABEL in record.Labels)) continue;
      if (!labelsMatch(record.Labels, labels) || (notLabels.length > 0 && notLabels.some((label) => labelsMatch(record.Labels, [label])))) continue;
      const size = record.Driver === 'local' ? await folderSize(await this.local.path(record.Name)) : 0;
      try {
        await this.remove(record.Name);
      } catch (err) {
        if (!isKind(err, 'conflict') && !isKind(err, 'not-found')) this.options.logger.warn('prune: volume not removed', { name: record.Name, err });
        continue;
      }
      deleted.push(record.Name);
      reclaimed += size;
    }
    this.publish('prune', '', { reclaimed: String(reclaimed) });
    return { deleted, reclaimed };
  }

  /** A container now uses the volume (made at its create, or found at daemon start). */
  reference(name: string, containerId: string): void {
    const users = this.references.get(name) ?? new Set<string>();
    users.add(containerId);
    this.references.set(name, users);
  }

  dereference(name: string, containerId: string): void {
    const users = this.references.get(name);
    users?.delete(containerId);
    if (users?.size === 0) this.references.delete(name);
  }

  /** Makes a volume reachable for one run of a container; the host path to bind. */
  async mount(name: string, containerId: string): Promise<string> {
    const record = this.record(name);
    const driver = await this.driver(record.Driver);
    try {
      return await driver.mount(name, containerId);
    } catch (err) {
      throw wrap(err, `error while mounting volume '${name}'`);
    }
  }

  async unmount(name: string, containerId: string): Promise<void> {
    const record = this.records.get(name);
    if (!record) return;
    const driver = await this.driver(record.Driver);
    await driver.unmount(name, containerId);
  }

  /** A run found alive at daemon start keeps its mount of the volume. */
  async adopt(name: string, containerId: string): Promise<void> {
    const record = this.records.get(name);
    if (!record) return;
    (await this.driver(record.Driver).catch(() => undefined))?.adopt?.(name, containerId);
  }

  /** At daemon start, once live runs are adopted: local volumes left mounted by no run are unmounted. */
  unmountIdle(inUse: (name: string) => boolean): Promise<void> {
    const local = this.records.all().filter((record) => record.Driver === 'local' && record.Options);
    return this.local.unmountIdle(
      local.map((record) => record.Name),
      inUse,
    );
  }

  /** Whether a mounted volume's folder holds nothing yet (copy-up fills only those). */
  async isEmpty(path: string): Promise<boolean> {
    return (await readdir(path).catch(() => [''])).length === 0;
  }

  /** Bytes a volume holds on this host; -1 when its driver does not keep it here (as moby). */
  async size(name: string): Promise<number> {
    const record = this.record(name);
    if (record.Driver !== 'local') return -1;
    return folderSize(await this.local.path(name));
  }

  /** /system/df's Volumes: each volume with UsageData {Size, RefCount}. */
  async dfEntries(): Promise<unknown[]> {
    return Promise.all(
      this.records.all().map(async (record) => ({
        ...(await this.view(record)),
        UsageData: { Size: await this.size(record.Name).catch(() => -1), RefCount: this.users(record.Name).length },
      })),
    );
  }

  /**
   * `berth volume export`: the volume's content as a tar, streamed by the confined pack helper
   * (chrooted into the volume, so links in it lead nowhere else); mounted meanwhile if need be.
   */
  async export(name: string): Promise<Readable> {
    const useId = `export-${randomBytes(8).toString('hex')}`;
    const path = await this.mount(name, useId);
    const tar = exportRoot({ path });
    void finished(tar)
      .catch(() => {})
      .then(() => this.unmount(name, useId))
      .catch((err) => this.options.logger.warn('unmounting a volume after its export', { name, err }));
    return tar;
  }

  /** `berth volume import`: a tar unpacked into the volume by the confined extractor, owners kept. */
  async import(name: string, tar: Readable): Promise<void> {
    const useId = `import-${randomBytes(8).toString('hex')}`;
    const path = await this.mount(name, useId);
    try {
      await extractArchive({ path }, '/', tar, { noOverwriteDirNonDir: false });
    } finally {
      await this.unmount(name, useId);
    }
  }
}
