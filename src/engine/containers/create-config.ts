import { invalidParameter } from '../../common/errors.js';
import { parseSignal } from './signals.js';
import type { ContainerConfigFields } from '../images/image-config.js';
import { effectiveCapabilities } from '../../runtime/capabilities.js';
import type { ContainerConfig, HostConfig } from './model.js';
import { isUnset, type ConfigRequest, type EndpointRequest, type HostConfigRequest } from './spec.js';
import { logConfig } from './log-config.js';

/** Docker's default: 64 MiB for /dev/shm. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function envKey(entry: string): string {
  return entry.split('=', 1)[0];
}

/**
 * Builds a container's Config from the create request merged with its image's config, the way
 * moby's mergeAndVerifyConfig does: image values fill what the user left empty, image Env comes
 * first and is overridden by the user's, and a command must result.
 */
export function mergeContainerConfig(given: ConfigRequest, image: ContainerConfigFields): ContainerConfig {
  const userEnv = given.Env ?? [];
  const userKeys = new Set(userEnv.map(envKey));
  const env = [...(image.Env ?? []).filter((e) => !userKeys.has(envKey(e))), ...userEnv];
  const entrypoint = given.Entrypoint;
  let cmd = given.Cmd;
  // An explicit entrypoint drops the image's Cmd (moby: only an empty Entrypoint inherits it).
  const inheritedEntrypoint = entrypoint === null ? image.Entrypoint ?? null : entrypoint.length === 0 || (entrypoint.length === 1 && entrypoint[0] === '') ? null : entrypoint;
  if (cmd === null && entrypoint === null) cmd = image.Cmd ?? null;
  if ((inheritedEntrypoint?.length ?? 0) === 0 && (cmd?.length ?? 0) === 0) throw invalidParameter('No command specified');
  if (!isUnset(given.Volumes)) throw invalidParameter('volumes (Config.Volumes) are not supported yet by berthd');
  if (!isUnset(given.HealthcheckTest)) throw invalidParameter('health checks (Config.Healthcheck) are not supported yet by berthd');
  if (given.MacAddress) throw invalidParameter('--mac-address (Config.MacAddress) is not supported yet by berthd');
  const config: ContainerConfig = {
    Hostname: given.Hostname ?? '',
    Domainname: given.Domainname ?? '',
    User: given.User || image.User || '',
    AttachStdin: given.AttachStdin ?? false,
    AttachStdout: given.AttachStdout ?? false,
    AttachStderr: given.AttachStderr ?? false,
    Tty: given.Tty ?? false,
    OpenStdin: given.OpenStdin ?? false,
    StdinOnce: given.StdinOnce ?? false,
    Env: env.length > 0 ? env : null,
    Cmd: cmd,
    Image: given.Image,
    Volumes: null,
    WorkingDir: given.WorkingDir || image.WorkingDir || '',
    Entrypoint: inheritedEntrypoint,
    OnBuild: image.OnBuild ?? null,
    Labels: { ...(image.Labels ?? {}), ...(given.Labels ?? {}) },
  };
  const stopSignal = given.StopSignal || image.StopSignal;
  if (stopSignal) config.StopSignal = stopSignal;
  if (stopSignal) parseSignal(stopSignal); // Docker's 400 "Invalid signal: X" at create, not at stop
  if (given.StopTimeout !== undefined) config.StopTimeout = given.StopTimeout;
  if (config.WorkingDir && !config.WorkingDir.startsWith('/')) {
    throw invalidParameter(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  return config;
}

/**
 * Settings Berth does not carry out yet, with the docker flag that sets each. A container asked
 * for one of them is refused rather than run without it (a bind mount that silently is not there,
 * a memory limit that is not enforced).
 */
const UNSUPPORTED_HOST_CONFIG: Record<string, string> = {
  Binds: '-v/--volume',
  Mounts: '--mount',
  VolumesFrom: '--volumes-from',
  PortBindings: '-p/--publish',
  PublishAllPorts: '-P/--publish-all',
  Links: '--link',
  Dns: '--dns',
  DnsOptions: '--dns-option',
  DnsSearch: '--dns-search',
  ExtraHosts: '--add-host',
  Privileged: '--privileged',
  Devices: '--device',
  DeviceRequests: '--gpus',
  DeviceCgroupRules: '--device-cgroup-rule',
  Memory: '-m/--memory',
  MemorySwap: '--memory-swap',
  MemoryReservation: '--memory-reservation',
  NanoCpus: '--cpus',
  CpuShares: '--cpu-shares',
  CpuPeriod: '--cpu-period',
  CpuQuota: '--cpu-quota',
  CpusetCpus: '--cpuset-cpus',
  CpusetMems: '--cpuset-mems',
  BlkioWeight: '--blkio-weight',
  PidsLimit: '--pids-limit',
  Ulimits: '--ulimit',
  OomKillDisable: '--oom-kill-disable',
  OomScoreAdj: '--oom-score-adj',
  PidMode: '--pid',
  IpcMode: '--ipc',
  UTSMode: '--uts',
  UsernsMode: '--userns',
  CgroupParent: '--cgroup-parent',
  Init: '--init',
  Sysctls: '--sysctl',
  Tmpfs: '--tmpfs',
  SecurityOpt: '--security-opt',
  GroupAdd: '--group-add',
};

function refuseUnsupported(other: Record<string, unknown>): void {
  for (const [field, flag] of Object.entries(UNSUPPORTED_HOST_CONFIG)) {
    if (!isUnset(other[field])) {
      throw invalidParameter(`${flag} (HostConfig.${field}) is not supported yet by berthd`);
    }
  }
}

/** Moby's verifyPlatformContainerSettings and capability checks, made at create rather than at start. */
function checkHostSettings(given: HostConfigRequest): void {
  if ((given.ShmSize ?? 0) < 0) throw invalidParameter('SHM size can not be less than 0');
  // A positive Memory is refused as not supported (the ledger); a negative one is not "unset".
  const memory = given.other.Memory;
  if (typeof memory === 'number' && memory < 0) throw invalidParameter('Minimum memory limit allowed is 6MB');
  effectiveCapabilities(given.CapAdd ?? [], given.CapDrop ?? []); // throws on an unknown or unavailable name
  const isolation = given.other.Isolation;
  if (typeof isolation === 'string' && isolation !== '' && isolation !== 'default') {
    throw invalidParameter(`invalid isolation: ${JSON.stringify(isolation)} - linux only supports 'default'`);
  }
  const cgroupns = given.other.CgroupnsMode;
  if (typeof cgroupns === 'string' && !['', 'host', 'private'].includes(cgroupns)) {
    throw invalidParameter(`invalid cgroup namespace mode: ${cgroupns}`);
  }
  if (cgroupns === 'private') throw invalidParameter('--cgroupns private (HostConfig.CgroupnsMode) is not supported yet by berthd');
}

/** Networks other than the container's own loopback wait for the networks issue. */
function networkMode(given: HostConfigRequest, endpoints: EndpointRequest[], warnings: string[]): string {
  const mode = given.NetworkMode || 'default';
  if (!['default', 'none', 'bridge'].includes(mode)) {
    throw invalidParameter(`network mode "${mode}" is not supported yet by berthd (containers get a private loopback-only network)`);
  }
  for (const endpoint of endpoints) {
    if (endpoint.network !== mode) {
      throw invalidParameter(`connecting to network "${endpoint.network}" (NetworkingConfig.EndpointsConfig) is not supported yet by berthd`);
    }
    if (endpoint.settingsGiven.length > 0) {
      throw invalidParameter(`endpoint settings (NetworkingConfig.EndpointsConfig.${endpoint.network}.${endpoint.settingsGiven[0]}) are not supported yet by berthd`);
    }
  }
  if (mode !== 'none') warnings.push(`network mode "${mode}": berthd has no bridge network yet; the container gets a private network with loopback only`);
  return mode;
}

/**
 * HostConfig with the daemon's defaults filled in, as inspect shows it, and the warnings the
 * create response carries.
 */
export function completeHostConfig(
  given: HostConfigRequest,
  endpoints: EndpointRequest[],
  defaultRuntime: string,
): { hostConfig: HostConfig; warnings: string[] } {
  refuseUnsupported(given.other);
  checkHostSettings(given);
  const restart = given.RestartPolicy;
  if (restart?.Name && restart.Name !== 'no') {
    throw invalidParameter(`restart policy "${restart.Name}" is not supported yet by berthd`);
  }
  const warnings: string[] = [];
  const hostConfig: HostConfig = {
    ...given.other,
    AutoRemove: given.AutoRemove ?? false,
    Runtime: given.Runtime || defaultRuntime,
    CapAdd: given.CapAdd ?? null,
    CapDrop: given.CapDrop ?? null,
    ReadonlyRootfs: given.ReadonlyRootfs ?? false,
    ShmSize: given.ShmSize || DEFAULT_SHM_SIZE,
    ConsoleSize: given.ConsoleSize ?? [0, 0],
    NetworkMode: networkMode(given, endpoints, warnings),
    LogConfig: logConfig(given.LogConfig),
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    CgroupnsMode: 'host',
    IpcMode: 'private',
  };
  return { hostConfig, warnings };
}

/** Docker's process environment: PATH default, HOSTNAME, TERM for a tty, then the config's Env. */
export function processEnv(config: ContainerConfig, hostname: string): string[] {
  const env = config.Env ?? [];
  const base = [DEFAULT_PATH, `HOSTNAME=${hostname}`, ...(config.Tty ? ['TERM=xterm'] : [])];
  const keys = new Set(env.map(envKey));
  return [...base.filter((e) => !keys.has(envKey(e))), ...env];
}
