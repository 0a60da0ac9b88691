/**
 * A container's namespace settings (HostConfig.PidMode, IpcMode, UTSMode, UsernsMode,
 * CgroupnsMode, CgroupParent): checked at create with moby's messages, and turned into the OCI
 * namespaces of each run — left out to share the host's, given another container's
 * /proc/PID/ns path to join it (--pid container:<name>). --ipc container:<name> is refused.
 */
import { conflict, invalidParameter } from '../../common/errors.js';
import { DEFAULT_NAMESPACES, type OciNamespace, type SpecInput } from '../../runtime/oci-spec.js';
import type { ContainerRecord } from './model.js';
import type { RunNetwork } from './networking.js';

const CONTAINER_PREFIX = 'container:';

const joined = (mode: string) => (mode.startsWith(CONTAINER_PREFIX) ? mode.slice(CONTAINER_PREFIX.length) : undefined);

const VALID = {
  pid: (mode: string) => mode === '' || mode === 'host' || !!joined(mode),
  ipc: (mode: string) => ['', 'none', 'private', 'shareable', 'host'].includes(mode) || !!joined(mode),
  uts: (mode: string) => mode === '' || mode === 'host',
  userns: (mode: string) => mode === '' || mode === 'host',
};

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/**
 * Whether the container's processes have a PID namespace of their own: then none outlives its
 * init (the kernel kills the others as the init exits, before its exit is reported).
 */
export function hasOwnPidNamespace(record: ContainerRecord): boolean {
  return text(record.hostConfig.PidMode) === '';
}

/** moby's validateNetMode: a hostname of its own cannot be given to a container on the host's UTS namespace. */
export function checkHostnameMode(hostname: string | undefined, other: Readonly<Record<string, unknown>>): void {
  if (other.UTSMode === 'host' && (hostname ?? '') !== '') throw invalidParameter('conflicting options: hostname and the UTS mode');
}

/** moby's verifyPlatformContainerSettings for the namespace modes, and a cgroup parent that stays in the hierarchy. */
export function checkNamespaceModes(other: Readonly<Record<string, unknown>>): void {
  if (!VALID.ipc(text(other.IpcMode))) throw invalidParameter(`invalid IPC mode: ${text(other.IpcMode)}`);
  if (joined(text(other.IpcMode))) {
    // Docker shares the donor's /dev/shm from a tmpfs it mounts on the host; berthd has no such mount yet.
    throw invalidParameter(`--ipc container:<name> (HostConfig.IpcMode) is not supported yet by berthd`);
  }
  if (!VALID.pid(text(other.PidMode))) throw invalidParameter(`invalid PID mode: ${text(other.PidMode)}`);
  if (!VALID.uts(text(other.UTSMode))) throw invalidParameter(`invalid UTS mode: ${text(other.UTSMode)}`);
  if (!VALID.userns(text(other.UsernsMode))) throw invalidParameter(`invalid USER mode: ${text(other.UsernsMode)}`);
  const cgroupns = text(other.CgroupnsMode);
  if (!['', 'host', 'private'].includes(cgroupns)) throw invalidParameter(`invalid cgroup namespace mode: ${cgroupns}`);
  const parent = text(other.CgroupParent);
  if (parent !== '' && (parent.split('/').includes('..') || !/^\/?[\w.@/-]+$/.test(parent))) {
    throw invalidParameter(`invalid cgroup parent ${JSON.stringify(parent)}: give a cgroup path such as /mygroup`);
  }
}

/** A running container whose namespaces another one joins (container:<name or id>). */
export type PeerLookup = (idOrName: string) => ContainerRecord;

/** --pid container:<name>: the PID namespace of that running container. */
function peerPidNamespace(reference: string, self: ContainerRecord, peers: PeerLookup | undefined): OciNamespace {
  if (!peers) throw invalidParameter(`--pid container:${reference}: other containers cannot be reached here`);
  const peer = peers(reference);
  if (peer.id === self.id) throw invalidParameter('cannot join own PID namespace');
  if (!peer.state.Running || peer.state.Pid <= 0) throw conflict(`cannot join PID of a non running container: ${reference}`);
  return { type: 'pid', path: `/proc/${peer.state.Pid}/ns/pid` };
}

/** The spec's namespaces, /dev/shm and cgroup path for this run of the container. */
export function namespaceSettings(
  record: ContainerRecord,
  peers: PeerLookup | undefined,
  network?: RunNetwork,
): Pick<SpecInput, 'namespaces' | 'shm' | 'cgroupsPath'> & { utsHost: boolean } {
  const { hostConfig } = record;
  const pidMode = text(hostConfig.PidMode);
  const ipcMode = text(hostConfig.IpcMode);
  const namespaces: OciNamespace[] = [];
  let shm: SpecInput['shm'];
  for (const type of DEFAULT_NAMESPACES) {
    if (type === 'pid' && pidMode === 'host') continue;
    if (type === 'pid' && joined(pidMode)) {
      namespaces.push(peerPidNamespace(joined(pidMode)!, record, peers));
      continue;
    }
    if (type === 'ipc' && ipcMode === 'host') {
      shm = { bind: '/dev/shm' };
      continue;
    }
    if (type === 'uts' && hostConfig.UTSMode === 'host') continue;
    if (type === 'network' && network?.kind === 'host') continue;
    if (type === 'network' && network && network.kind !== 'host' && network.path) {
      namespaces.push({ type, path: network.path });
      continue;
    }
    namespaces.push({ type });
  }
  if (ipcMode === 'none') shm = 'none';
  if (hostConfig.CgroupnsMode === 'private') namespaces.push({ type: 'cgroup' });
  const parent = text(hostConfig.CgroupParent);
  return {
    namespaces,
    shm,
    // '' lets the runtime place it under the daemon's parent.
    cgroupsPath: parent === '' ? '' : `/${parent.replace(/^\/+|\/+$/g, '')}/${record.id}`,
    utsHost: hostConfig.UTSMode === 'host',
  };
}
