/**
 * The mounts a container's run gets besides its rootfs, planned before the OCI spec is built.
 * Each source contributes its mounts: the generated files (/etc/hostname, /etc/hosts,
 * /etc/resolv.conf) today; volumes, binds, tmpfs and network namespace files plug in here as
 * further sources. The plan is ordered so that a mount below another's destination comes after it.
 */
import type { OciMount } from '../../runtime/oci-spec.js';
import type { ContainerRecord } from './model.js';

export interface PlannedMount extends OciMount {
  /** Which source planned it (for messages and for sources that replace one another). */
  origin: 'generated-file';
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

export function planMounts(record: ContainerRecord, sources: readonly MountSource[] = [generatedFiles]): PlannedMount[] {
  const mounts = sources.flatMap((source) => source(record));
  // A stable sort by depth puts parents first and keeps each source's own order otherwise.
  return mounts.sort((a, b) => depth(a.destination) - depth(b.destination));
}

/** The plan as the OCI spec takes it. */
export function ociMounts(plan: readonly PlannedMount[]): OciMount[] {
  return plan.map(({ destination, source, type, options }) => ({ destination, source, type, options }));
}
