import { invalidParameter } from '../../common/errors.js';
import type { ContainerConfigFields } from '../images/image-config.js';
import type { ContainerConfig, HostConfig } from './model.js';

/** Docker's default: 64 MiB for /dev/shm. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringArray(value: unknown, field: string): string[] | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw invalidParameter(`invalid ${field}: expected an array of strings`);
}

function str(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidParameter(`invalid ${field}: expected a string`);
  return value;
}

function bool(value: unknown): boolean {
  return value === true;
}

function envKey(entry: string): string {
  return entry.split('=', 1)[0];
}

/**
 * Builds a container's Config from the create body merged with its image's config, the way
 * moby's mergeAndVerifyConfig does: image values fill what the user left empty, image Env comes
 * first and is overridden by the user's, and a command must result.
 */
export function mergeContainerConfig(body: Json, image: ContainerConfigFields): ContainerConfig {
  const userEnv = stringArray(body.Env, 'Env') ?? [];
  const userKeys = new Set(userEnv.map(envKey));
  const env = [...(image.Env ?? []).filter((e) => !userKeys.has(envKey(e))), ...userEnv];
  const entrypoint = stringArray(body.Entrypoint, 'Entrypoint');
  let cmd = stringArray(body.Cmd, 'Cmd');
  // An explicit entrypoint drops the image's Cmd (moby: only an empty Entrypoint inherits it).
  const inheritedEntrypoint = entrypoint === null ? image.Entrypoint ?? null : entrypoint.length === 0 || (entrypoint.length === 1 && entrypoint[0] === '') ? null : entrypoint;
  if (cmd === null && entrypoint === null) cmd = image.Cmd ?? null;
  if ((inheritedEntrypoint?.length ?? 0) === 0 && (cmd?.length ?? 0) === 0) throw invalidParameter('No command specified');
  const labels = { ...(image.Labels ?? {}), ...(isObject(body.Labels) ? (body.Labels as Record<string, string>) : {}) };
  const config: ContainerConfig = {
    Hostname: str(body.Hostname, 'Hostname'),
    Domainname: str(body.Domainname, 'Domainname'),
    User: str(body.User, 'User') || image.User || '',
    AttachStdin: bool(body.AttachStdin),
    AttachStdout: bool(body.AttachStdout),
    AttachStderr: bool(body.AttachStderr),
    Tty: bool(body.Tty),
    OpenStdin: bool(body.OpenStdin),
    StdinOnce: bool(body.StdinOnce),
    Env: env.length > 0 ? env : null,
    Cmd: cmd,
    Image: str(body.Image, 'Image'),
    Volumes: null,
    WorkingDir: str(body.WorkingDir, 'WorkingDir') || image.WorkingDir || '',
    Entrypoint: inheritedEntrypoint,
    OnBuild: image.OnBuild ?? null,
    Labels: labels,
  };
  if (!isUnset(body.Volumes)) throw invalidParameter('volumes (Config.Volumes) are not supported yet by berthd');
  if (isObject(body.Healthcheck) && !isUnset(body.Healthcheck.Test)) {
    throw invalidParameter('health checks (Config.Healthcheck) are not supported yet by berthd');
  }
  const stopSignal = str(body.StopSignal, 'StopSignal') || image.StopSignal;
  if (stopSignal) config.StopSignal = stopSignal;
  if (typeof body.StopTimeout === 'number') config.StopTimeout = body.StopTimeout;
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

/** What clients send for "not set": null, false, 0, "", [] or {} (the docker CLI sends all of these). */
function isUnset(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return typeof value === 'number' && value < 0; // PidsLimit -1: unlimited, the default
}

function refuseUnsupported(given: Json): void {
  for (const [field, flag] of Object.entries(UNSUPPORTED_HOST_CONFIG)) {
    if (!isUnset(given[field])) {
      throw invalidParameter(`${flag} (HostConfig.${field}) is not supported yet by berthd`);
    }
  }
}

/** HostConfig with the daemon's defaults filled in, as inspect shows it. */
export function completeHostConfig(body: unknown, defaultRuntime: string): HostConfig {
  const given: Json = isObject(body) ? body : {};
  refuseUnsupported(given);
  const consoleSize: [number, number] =
    Array.isArray(given.ConsoleSize) && given.ConsoleSize.length === 2 ? (given.ConsoleSize as [number, number]) : [0, 0];
  const shmSize = typeof given.ShmSize === 'number' && given.ShmSize > 0 ? given.ShmSize : DEFAULT_SHM_SIZE;
  const restart = isObject(given.RestartPolicy) ? given.RestartPolicy : {};
  if (restart.Name && restart.Name !== 'no') {
    throw invalidParameter(`restart policy "${String(restart.Name)}" is not supported yet by berthd`);
  }
  const networkMode = str(given.NetworkMode, 'NetworkMode') || 'default';
  if (!['default', 'none', 'bridge'].includes(networkMode)) {
    throw invalidParameter(`network mode "${networkMode}" is not supported yet by berthd (containers get a private loopback-only network)`);
  }
  return {
    ...given,
    AutoRemove: bool(given.AutoRemove),
    Runtime: str(given.Runtime, 'Runtime') || defaultRuntime,
    CapAdd: stringArray(given.CapAdd, 'CapAdd'),
    CapDrop: stringArray(given.CapDrop, 'CapDrop'),
    ReadonlyRootfs: bool(given.ReadonlyRootfs),
    ShmSize: shmSize,
    ConsoleSize: consoleSize,
    NetworkMode: networkMode,
    LogConfig: { Type: 'k8s-file', Config: {} },
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    CgroupnsMode: 'host',
    IpcMode: 'private',
  };
}

/** Docker's process environment: PATH default, HOSTNAME, TERM for a tty, then the config's Env. */
export function processEnv(config: ContainerConfig, hostname: string): string[] {
  const env = config.Env ?? [];
  const base = [DEFAULT_PATH, `HOSTNAME=${hostname}`, ...(config.Tty ? ['TERM=xterm'] : [])];
  const keys = new Set(env.map(envKey));
  return [...base.filter((e) => !keys.has(envKey(e))), ...env];
}
