/**
 * The volumes side of a container's life: at create its mount points are decided (moby's
 * registerMountPoints: --volumes-from first, then -v binds and --mount, then the image's and
 * `-v /path` anonymous volumes for destinations nothing else covers), named volumes made on first
 * use; at each start volumes are mounted, new empty ones filled from the image (copy-up), bind
 * sources checked; at the end of a run they are unmounted; at removal the references go and, with
 * `rm -v` (or --rm), the anonymous volumes no other container uses.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, invalidParameter, isKind } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { EventBus } from '../events/event-bus.js';
import type { ContainerRecord, HostConfig } from '../containers/model.js';
import type { ContainerVolumes, PlannedMount } from '../containers/mount-plan.js';
import { checkBindSource, releaseStagedSources, stageBindSource } from './bind-source.js';
import { copyUp } from './copy-up.js';
import { ANONYMOUS_LABEL, type MountPoint } from './mount-point.js';
import { checkBindPropagation, rootfsPropagation } from './mount-propagation.js';
import { parseBind, parseMountRequest, parseTmpfsMap, parseVolumesFrom, tmpfsData, tmpfsOptions } from './mount-spec.js';
import type { VolumeService } from './volume-service.js';

export interface ContainerVolumesOptions {
  volumes: VolumeService;
  events: EventBus;
  logger: Logger;
  /** The container --volumes-from names (404 when there is none). */
  findContainer: (idOrName: string) => ContainerRecord;
  /** berthd's data root: bind sources in it are checked for planted links. */
  dataRoot: string;
  /** Where bind sources from the data root are staged for the runtime, a folder per container (in the exec root). */
  stagingRoot: string;
}

const duplicate = (destination: string) => invalidParameter(`Duplicate mount point: ${destination}`);

/** The OCI options of a bind: recursive unless asked otherwise, read-only, its propagation. */
function bindOptions(point: MountPoint): string[] {
  const recursive = point.Type === 'bind' && point.Spec.BindOptions?.NonRecursive ? 'bind' : 'rbind';
  return [recursive, ...(point.RW ? [] : ['ro']), point.Propagation || 'rprivate'];
}

export class VolumeMounts implements ContainerVolumes {
  /** Volumes mounted for each container's current run. */
  private readonly mounted = new Map<string, string[]>();

  constructor(private readonly options: ContainerVolumesOptions) {}

  private get volumes(): VolumeService {
    return this.options.volumes;
  }

  /** The mount points of a container being created; volumes it names are made, and referenced. */
  async prepare(id: string, hostConfig: HostConfig, configVolumes: readonly string[]): Promise<MountPoint[]> {
    const other = hostConfig as Record<string, unknown>;
    const volumeDriver = typeof other.VolumeDriver === 'string' ? other.VolumeDriver : '';
    const byDestination = new Map<string, MountPoint>();
    for (const spec of (other.VolumesFrom as string[] | null | undefined) ?? []) {
      const { container, mode } = parseVolumesFrom(spec);
      const source = this.options.findContainer(container);
      const readOnly = mode.split(',').includes('ro');
      for (const point of source.mountPoints ?? []) {
        byDestination.set(point.Destination, { ...point, RW: point.RW && !readOnly, CopyData: false });
      }
      // moby also takes over the source's -v binds (its HostConfig.Binds).
    }
    const given = new Set<string>();
    const add = (point: MountPoint) => {
      if (given.has(point.Destination)) throw duplicate(point.Destination);
      given.add(point.Destination);
      byDestination.set(point.Destination, point);
    };
    for (const raw of (other.Binds as string[] | null | undefined) ?? []) add(parseBind(raw, volumeDriver));
    for (const request of (other.Mounts as unknown[] | null | undefined) ?? []) {
      const point = parseMountRequest(request);
      if (point.Type === 'bind' && !point.Spec.BindOptions?.CreateMountpoint) {
        await stat(point.Source).catch((err) => {
          if (errnoCode(err) === 'ENOENT') throw invalidParameter(`invalid mount config for type "bind": bind source path does not exist: ${point.Source}`);
          throw err;
        });
      }
      add(point);
    }
    const tmpfs = parseTmpfsMap((other.Tmpfs as Record<string, string> | null | undefined) ?? {});
    for (const { destination } of tmpfs) if (given.has(destination)) throw duplicate(destination);
    for (const destination of configVolumes) {
      const point = parseBind(destination, volumeDriver);
      if (!byDestination.has(point.Destination) && !tmpfs.some((t) => t.destination === point.Destination)) byDestination.set(point.Destination, point);
    }
    const points = [...byDestination.values()];
    for (const point of points) if (point.Type === 'bind') await checkBindSource(point.Source, this.options.dataRoot);
    const made: MountPoint[] = [];
    try {
      for (const point of points) {
        if (point.Type !== 'volume') continue;
        const anonymous = point.Name === '';
        const volume = await this.volumes.create(
          {
            Name: point.Name,
            Driver: point.Driver,
            DriverOpts: point.Spec.VolumeOptions?.DriverConfig?.Options,
            Labels: anonymous ? { [ANONYMOUS_LABEL]: '' } : point.Spec.VolumeOptions?.Labels,
          },
          id,
        );
        point.Name = volume.Name;
        point.Driver = volume.Driver;
        point.Source = volume.Mountpoint;
        made.push(point);
      }
    } catch (err) {
      await this.release(id, made, true);
      throw err;
    }
    return points;
  }

  /** References of a container found at daemon start. */
  track(record: ContainerRecord): void {
    for (const point of record.mountPoints ?? []) if (point.Type === 'volume') this.volumes.reference(point.Name, record.id);
  }

  /** Drops a container's references; its anonymous volumes go too when asked (rm -v, --rm) and nobody else uses them. */
  async release(id: string, points: readonly MountPoint[], removeAnonymous: boolean): Promise<void> {
    for (const point of points) {
      if (point.Type !== 'volume') continue;
      this.volumes.dereference(point.Name, id);
      if (!removeAnonymous) continue;
      const volume = await this.volumes.inspect(point.Name).catch(() => undefined);
      if (!volume?.Labels || !(ANONYMOUS_LABEL in volume.Labels)) continue;
      await this.volumes.remove(point.Name).catch((err) => {
        if (!isKind(err, 'conflict') && !isKind(err, 'not-found')) this.options.logger.warn('removing an anonymous volume', { name: point.Name, err });
      });
    }
  }

  /** At start, the rootfs mounted: volumes mounted (and filled), binds checked, the OCI mounts planned. */
  async mount(record: ContainerRecord, rootfs: string): Promise<{ mounts: PlannedMount[]; rootfsPropagation?: string }> {
    const mounts: PlannedMount[] = [];
    const mounted: string[] = [];
    this.mounted.set(record.id, mounted);
    const staging = join(this.options.stagingRoot, record.id);
    await releaseStagedSources(staging); // a run that ended while berthd was down
    for (const point of record.mountPoints ?? []) {
      if (point.Type === 'volume') {
        const path = await this.volumes.mount(point.Name, record.id);
        mounted.push(point.Name);
        point.Source = path;
        if (point.CopyData && (await this.volumes.isEmpty(path))) await copyUp(rootfs, point.Destination, path);
        mounts.push({ destination: point.Destination, source: path, type: 'bind', options: bindOptions(point), origin: 'volume' });
        this.options.events.publish('volume', 'mount', point.Name, {
          container: record.id,
          destination: point.Destination,
          driver: point.Driver,
          propagation: point.Propagation,
          'read/write': String(point.RW),
        });
      } else if (point.Type === 'bind') {
        // Again at each start: a link may have been planted since the create.
        await checkBindSource(point.Source, this.options.dataRoot);
        // -v creates a missing host folder (as moby); --mount refused it at create unless asked to create it.
        await mkdir(point.Source, { recursive: true }).catch((err) => {
          if (errnoCode(err) !== 'EEXIST') throw err;
        });
        await checkBindPropagation(point.Source, point.Propagation);
        const options = bindOptions(point);
        const source = await stageBindSource(point.Source, this.options.dataRoot, join(staging, String(mounts.length)), options[0] === 'rbind');
        mounts.push({ destination: point.Destination, source, type: 'bind', options, origin: 'bind' });
      } else {
        mounts.push({ destination: point.Destination, source: 'tmpfs', type: 'tmpfs', options: tmpfsOptions(tmpfsData(point.Spec)), origin: 'tmpfs' });
      }
    }
    for (const { destination, options } of parseTmpfsMap((record.hostConfig.Tmpfs as Record<string, string> | null | undefined) ?? {})) {
      mounts.push({ destination, source: 'tmpfs', type: 'tmpfs', options, origin: 'tmpfs' });
    }
    return { mounts, rootfsPropagation: rootfsPropagation((record.mountPoints ?? []).map((p) => p.Propagation)) };
  }

  /** At the end of a run (also a failed start): the volumes mounted for it are unmounted. */
  async unmount(id: string): Promise<void> {
    await releaseStagedSources(join(this.options.stagingRoot, id)).catch((err) => this.options.logger.warn('releasing staged bind sources', { id, err }));
    const names = this.mounted.get(id);
    if (!names) return;
    this.mounted.delete(id);
    for (const name of names) {
      await this.volumes.unmount(name, id).catch((err) => this.options.logger.warn('unmounting a volume', { name, id, err }));
      this.options.events.publish('volume', 'unmount', name, { container: id, driver: (await this.volumes.inspect(name).catch(() => undefined))?.Driver ?? '' });
    }
  }

  /**
   * At daemon start, after reconciliation: the stages of runs that ended while berthd was down
   * (or whose start a crash cut short, before the runtime had anything to reconcile) are released.
   */
  async sweepStages(): Promise<void> {
    const ids = await readdir(this.options.stagingRoot).catch(() => [] as string[]);
    for (const id of ids) {
      if (this.mounted.has(id)) continue;
      await releaseStagedSources(join(this.options.stagingRoot, id)).catch((err) => this.options.logger.warn('releasing staged bind sources', { id, err }));
    }
  }

  /** Whether a run of some container has the volume mounted now. */
  mountedByARun(name: string): boolean {
    return [...this.mounted.values()].some((names) => names.includes(name));
  }

  /** A run found alive at daemon start: its volumes stay mounted and are unmounted when it ends. */
  async adopt(record: ContainerRecord): Promise<void> {
    const names = (record.mountPoints ?? []).filter((p) => p.Type === 'volume').map((p) => p.Name);
    // Set before any await: the idle-mount sweep at daemon start reads it right after reconciliation.
    this.mounted.set(record.id, names);
    for (const name of names) await this.volumes.adopt(name, record.id);
  }
}
