/**
 * The mounts a container's run gets besides its rootfs, planned before the OCI spec is built.
 * Each source contributes its mounts: the generated files (/etc/hostname, /etc/hosts,
 * /etc/resolv.conf), and the volumes, binds and tmpfs mounts of the container (ContainerVolumes);
 * network namespace files plug in here as a further source. The plan is ordered so that a mount below another's destination comes after it.
 */
import type { OciMount } from '../../runtime/oci-spec.js';
import type { MountPoint } from '../volumes/mount-point.js';
import type { ContainerRecord, HostConfig } from './model.js';

export interface PlannedMount extends OciMount {
  /** Which source planned it (for messages and for sources that replace one another). */
  origin: 'generated-file' | 'volume' | 'bind' | 'tmpfs';
}

/**
 * The volumes, binds and tmpfs mounts of containers (src/engine/volumes/container-volumes.ts):
 * decided at create, mounted at each start, released at removal.
 */
export interface ContainerVolumes {
  /** The mount points of a container being created (volumes it names made and referenced). */
  prepare(id: string, hostConfig: HostConfig, configVolumes: readonly string[]): Promise<MountPoint[]>;
  /** Drops a container's references; with `removeAnonymous` (rm -v, --rm) its anonymous volumes go. */
  release(id: string, points: readonly MountPoint[], removeAnonymous: boolean): Promise<void>;
  /** A container found at daemon start: its references counted again. */
  track(record: ContainerRecord): void;
  /** At start, with the rootfs mounted: volumes mounted (new ones filled), the mounts of the run. */
  mount(record: ContainerRecord, rootfs: string): Promise<{ mounts: PlannedMount[]; rootfsPropagation?: string }>;
  /** At the end of a run (a failed start too). */
  unmount(id: string): Promise<void>;
  /** A run found alive at daemon start keeps its volume mounts. */
  adopt(record: ContainerRecord): Promise<void>;
}

export type MountSource = (record: ContainerRecord) => PlannedMount[];

const BIND = ['rbind', 'rprivate'];

/** The files berthd writes into the container's folder and binds over the image's. */
export const generatedFiles: MountSource = (record) => [
  { destination: '/etc/hostname', source: record.hostnamePath, type: 'bind', options: BIND, origin: 'generated-file' },
  { destination: '/etc/hosts', source: record.hostsPath, type: 'bind', options: BIND, origin: 'generated-file' },
  { destination: '/etc/resolv.conf', source: record.resolvConfPath, type: 'bind', options: BIND, origin: 'generated-file' },
];

const depth = (path: string) => path.split('/').filter(Boolean).length;

/**
 * Every mount of a run: the generated files, then `given` (volumes, binds, tmpfs), which replace
 * a generated file at the same destination (a bind of the user's own /etc/hosts wins, as moby).
 */
export function planMounts(record: ContainerRecord, given: readonly PlannedMount[] = [], sources: readonly MountSource[] = [generatedFiles]): PlannedMount[] {
  const taken = new Set(given.map((m) => m.destination));
  const mounts = [...sources.flatMap((source) => source(record)).filter((m) => !taken.has(m.destination)), ...given];
  // A stable sort by depth puts parents first and keeps each source's own order otherwise.
  return mounts.sort((a, b) => depth(a.destination) - depth(b.destination));
}

/**
 * The binds and volumes of a container as its record holds them (volumes at their last mount
 * path), for what reaches into a container that may not run (cp).
 */
export function recordedMounts(record: ContainerRecord): PlannedMount[] {
  return (record.mountPoints ?? [])
    .filter((point) => point.Type !== 'tmpfs' && point.Source !== '')
    .map((point) => ({ destination: point.Destination, source: point.Source, type: 'bind', options: ['rbind'], origin: point.Type }));
}

/** The plan as the OCI spec takes it. */
export function ociMounts(plan: readonly PlannedMount[]): OciMount[] {
  return plan.map(({ destination, source, type, options }) => ({ destination, source, type, options }));
}
