/**
 * The OCI spec of one run of a container: its record, its mounted rootfs and its planned mounts
 * turned into what the runtime executes. The runtime writes the bundle; nothing here touches it.
 */
import { buildOciSpec, type OciDevice, type OciDeviceRule, type OciMount, type OciSpec } from '../../runtime/oci-spec.js';
import { devicesUnder } from '../../runtime/host-devices.js';
import { seccompFor } from '../../runtime/seccomp.js';
import { resolveGroups, resolveUser } from '../../runtime/user.js';
import { invalidParameter } from '../../common/errors.js';
import { processEnv } from './create-config.js';
import type { ContainerRecord } from './model.js';
import { ociMounts, planMounts, type PlannedMount } from './mount-plan.js';
import { ociResources, ociRlimits, resourceFields, type Ulimit } from './resource-limits.js';
import { namespaceSettings, type PeerLookup } from './namespace-modes.js';
import type { RunNetwork } from './networking.js';
import { deviceCgroupRule, mappedDevices, parseSecurityOpts, type DeviceMapping } from './security-settings.js';

/** What the daemon contributes to every container's spec. */
export interface RunSpecHost {
  /** The init binary bound at /sbin/docker-init for --init (daemon.json `init-path`); undefined: none found. */
  initPath?: string;
  /** Finds the container whose namespaces --pid/--ipc container:<name> joins. */
  peers?: PeerLookup;
}

/** Where Docker binds its init, and runs it as PID 1 in front of the command. */
const INIT_IN_CONTAINER = '/sbin/docker-init';

function initMount(host: RunSpecHost): OciMount {
  if (!host.initPath) {
    throw invalidParameter('--init: no init binary found: install tini (apt-get install tini) or set "init-path" in daemon.json');
  }
  return { destination: INIT_IN_CONTAINER, source: host.initPath, type: 'bind', options: ['bind', 'ro', 'nosuid', 'nodev', 'rprivate'] };
}

async function deviceSettings(record: ContainerRecord, privileged: boolean): Promise<{ devices: OciDevice[]; rules: OciDeviceRule[] }> {
  const { hostConfig } = record;
  const given = await Promise.all(((hostConfig.Devices as DeviceMapping[] | null) ?? []).map(mappedDevices));
  const host = privileged ? await devicesUnder('/dev') : [];
  const givenPaths = new Set(given.flatMap((g) => g.devices.map((d) => d.path)));
  return {
    devices: [...host.filter((d) => !givenPaths.has(d.path)), ...given.flatMap((g) => g.devices)],
    rules: [...given.flatMap((g) => g.rules), ...((hostConfig.DeviceCgroupRules as string[] | null) ?? []).map(deviceCgroupRule)],
  };
}

/** The volumes, binds and tmpfs mounts of this run (ContainerVolumes.mount). */
export interface RunMountsPlan {
  mounts: PlannedMount[];
  rootfsPropagation?: string;
}

export async function buildRunSpec(record: ContainerRecord, rootfs: string, host: RunSpecHost = {}, given: RunMountsPlan = { mounts: [] }, network?: RunNetwork): Promise<OciSpec> {
  const { config, hostConfig } = record;
  const capAdd = hostConfig.CapAdd ?? [];
  const capDrop = hostConfig.CapDrop ?? [];
  const [height, width] = hostConfig.ConsoleSize;
  const privileged = hostConfig.Privileged === true;
  const security = parseSecurityOpts((hostConfig.SecurityOpt as string[] | null) ?? []);
  const init = hostConfig.Init === true;
  const user = await resolveUser(rootfs, config.User);
  const groups = await resolveGroups(rootfs, (hostConfig.GroupAdd as string[] | null) ?? []);
  const { devices, rules } = await deviceSettings(record, privileged);
  const unconfined = privileged || security.seccomp.kind === 'unconfined';
  const { utsHost, ...namespaces } = namespaceSettings(record, host.peers, network);
  const spec = buildOciSpec({
    rootfs,
    args: [...(init ? [INIT_IN_CONTAINER, '--'] : []), record.path, ...record.args],
    env: [...processEnv(config, config.Hostname), ...(network?.kind === 'private' ? network.env ?? [] : [])],
    cwd: config.WorkingDir || '/',
    user: { ...user, additionalGids: [...new Set([...user.additionalGids, ...groups])] },
    // Sharing the host's UTS namespace, the container keeps the host's names.
    hostname: utsHost ? '' : config.Hostname,
    domainname: utsHost ? '' : config.Domainname,
    tty: config.Tty,
    consoleSize: config.Tty ? { height, width } : undefined,
    mounts: [...ociMounts(planMounts(record, given.mounts)), ...(init ? [initMount(host)] : [])],
    rootfsPropagation: given.rootfsPropagation,
    capAdd,
    capDrop,
    readonlyRootfs: hostConfig.ReadonlyRootfs,
    ...namespaces,
    shmSize: hostConfig.ShmSize,
    privileged,
    seccomp: unconfined ? undefined : await seccompFor(capAdd, capDrop, security.seccomp.kind === 'profile' ? security.seccomp.json : undefined),
    noNewPrivileges: security.noNewPrivileges,
    devices,
    deviceRules: rules,
    sysctls: { ...(network?.kind === 'private' ? network.sysctls : {}), ...((hostConfig.Sysctls as Record<string, string> | null) ?? {}) },
    resources: ociResources(resourceFields(hostConfig)),
    rlimits: ociRlimits(hostConfig.Ulimits as Ulimit[] | null),
    oomScoreAdj: typeof hostConfig.OomScoreAdj === 'number' ? hostConfig.OomScoreAdj : 0,
  });
  if (security.unmaskedPaths) {
    spec.linux.maskedPaths = [];
    spec.linux.readonlyPaths = [];
  }
  return spec;
}
