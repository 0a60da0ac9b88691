import { invalidParameter } from '../../common/errors.js';
import { parseSignal } from './signals.js';
import { RESTART_POLICIES, type RestartPolicy } from './restart-manager.js';
import type { ContainerConfigFields } from '../images/image-config.js';
import { effectiveCapabilities } from '../../runtime/capabilities.js';
import type { CgroupFeatures } from '../../runtime/cgroup-features.js';
import { checkNamespaceModes } from './namespace-modes.js';
import { checkDeviceMapping, checkSysctls, deviceCgroupRule, parseSecurityOpts, type DeviceMapping } from './security-settings.js';
import { checkResourceLimits, resourceFields, withCreateDefaults, type ResourceLimits } from './resource-limits.js';
import type { HealthConfigWire } from '../../wire/containers.js';
import type { ContainerConfig, HostConfig } from './model.js';
import { isUnset, type ConfigRequest, type HostConfigRequest } from './spec.js';
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
  const exposed = [...Object.keys(image.ExposedPorts ?? {}), ...(given.ExposedPorts ?? [])];
  const config: ContainerConfig = {
    Hostname: given.Hostname ?? '',
    Domainname: given.Domainname ?? '',
    User: given.User || image.User || '',
    AttachStdin: given.AttachStdin ?? false,
    AttachStdout: given.AttachStdout ?? false,
    AttachStderr: given.AttachStderr ?? false,
    ...(exposed.length > 0 && { ExposedPorts: Object.fromEntries(exposed.map((key) => [key.includes('/') ? key : `${key}/tcp`, {}])) }),
    Tty: given.Tty ?? false,
    OpenStdin: given.OpenStdin ?? false,
    StdinOnce: given.StdinOnce ?? false,
    Env: env.length > 0 ? env : null,
    Cmd: cmd,
    Image: given.Image,
    Volumes: mergeVolumes(given.Volumes, image.Volumes),
    WorkingDir: given.WorkingDir || image.WorkingDir || '',
    Entrypoint: inheritedEntrypoint,
    OnBuild: image.OnBuild ?? null,
    Labels: { ...(image.Labels ?? {}), ...(given.Labels ?? {}) },
  };
  const stopSignal = given.StopSignal || image.StopSignal;
  if (stopSignal) config.StopSignal = stopSignal;
  if (stopSignal) parseSignal(stopSignal); // Docker's 400 "Invalid signal: X" at create, not at stop
  if (given.StopTimeout !== undefined) config.StopTimeout = given.StopTimeout;
  const healthcheck = mergeHealthcheck(given.Healthcheck, image.Healthcheck);
  if (healthcheck) config.Healthcheck = checkHealthcheck(healthcheck);
  if (config.WorkingDir && !config.WorkingDir.startsWith('/')) {
    throw invalidParameter(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  return config;
}

/** Config.Volumes: the image's VOLUME entries and the request's (`-v /path`), as moby merges them. */
function mergeVolumes(given: string[] | undefined, image: Record<string, object> | null | undefined): Record<string, object> | null {
  const volumes: Record<string, object> = { ...(image ?? {}) };
  for (const path of given ?? []) volumes[path] = {};
  return Object.keys(volumes).length > 0 ? volumes : null;
}

/** Moby's merge: the image's check fills what the request left unset (each field on its own). */
function mergeHealthcheck(given: HealthConfigWire | undefined, image: HealthConfigWire | undefined): HealthConfigWire | undefined {
  if (!image) return given;
  if (!given) return { ...image };
  return {
    Test: given.Test?.length ? given.Test : image.Test,
    Interval: given.Interval || image.Interval,
    Timeout: given.Timeout || image.Timeout,
    StartPeriod: given.StartPeriod || image.StartPeriod,
    StartInterval: given.StartInterval || image.StartInterval,
    Retries: given.Retries || image.Retries,
  };
}

/** Moby's validateHealthCheck: durations of at least 1 ms when set, retries not negative. */
function checkHealthcheck(health: HealthConfigWire): HealthConfigWire {
  const MIN_NS = 1_000_000;
  for (const key of ['Interval', 'Timeout'] as const) {
    const value = health[key] ?? 0;
    if (value !== 0 && value < MIN_NS) throw invalidParameter(`${key} in Healthcheck cannot be less than 1ms`);
  }
  if ((health.Retries ?? 0) < 0) throw invalidParameter('Retries in Healthcheck cannot be negative');
  for (const key of ['StartPeriod', 'StartInterval'] as const) {
    const value = health[key] ?? 0;
    if (value !== 0 && value < MIN_NS) throw invalidParameter(`${key} in Healthcheck cannot be less than 1ms`);
  }
  // Inspect leaves unset fields out, as Go's omitempty does.
  return Object.fromEntries(Object.entries(health).filter(([, value]) => value !== 0 && value !== undefined && !(Array.isArray(value) && value.length === 0)));
}

/**
 * Settings Berth does not carry out yet, with the docker flag that sets each. A container asked
 * for one of them is refused rather than run without it (a bind mount that silently is not there,
 * a memory limit that is not enforced).
 */
const UNSUPPORTED_HOST_CONFIG: Record<string, string> = {
  DeviceRequests: '--gpus',
  BlkioWeightDevice: '--blkio-weight-device',
  BlkioDeviceReadBps: '--device-read-bps',
  BlkioDeviceWriteBps: '--device-write-bps',
  BlkioDeviceReadIOps: '--device-read-iops',
  BlkioDeviceWriteIOps: '--device-write-iops',
  CpuRealtimePeriod: '--cpu-rt-period',
  CpuRealtimeRuntime: '--cpu-rt-runtime',
  CpuCount: '--cpu-count',
  CpuPercent: '--cpu-percent',
  IOMaximumIOps: '--io-maxiops',
  IOMaximumBandwidth: '--io-maxbandwidth',
  StorageOpt: '--storage-opt',
  Annotations: '--annotation',
  MaskedPaths: 'MaskedPaths',
  ReadonlyPaths: 'ReadonlyPaths',
};

function refuseUnsupported(other: Record<string, unknown>): void {
  for (const [field, flag] of Object.entries(UNSUPPORTED_HOST_CONFIG)) {
    if (!isUnset(other[field])) {
      throw invalidParameter(`${flag} (HostConfig.${field}) is not supported yet by berthd`);
    }
  }
}

/** What inspect shows for limits nobody set, as dockerd does. */
const RESOURCE_DEFAULTS: Readonly<Record<keyof ResourceLimits, unknown>> = {
  Memory: 0,
  MemorySwap: 0,
  MemoryReservation: 0,
  MemorySwappiness: null,
  NanoCpus: 0,
  CpuShares: 0,
  CpuPeriod: 0,
  CpuQuota: 0,
  CpusetCpus: '',
  CpusetMems: '',
  PidsLimit: null,
  BlkioWeight: 0,
  OomKillDisable: false,
  Ulimits: null,
};

/** Moby's verifyPlatformContainerSettings and capability checks, made at create rather than at start. */
function checkHostSettings(given: HostConfigRequest): void {
  if ((given.ShmSize ?? 0) < 0) throw invalidParameter('SHM size can not be less than 0');
  const oomScoreAdj = given.other.OomScoreAdj;
  if (typeof oomScoreAdj === 'number' && (oomScoreAdj < -1000 || oomScoreAdj > 1000)) {
    throw invalidParameter(`Invalid value ${oomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  }
  effectiveCapabilities(given.CapAdd ?? [], given.CapDrop ?? []); // throws on an unknown or unavailable name
  const isolation = given.other.Isolation;
  if (typeof isolation === 'string' && isolation !== '' && isolation !== 'default') {
    throw invalidParameter(`invalid isolation: ${JSON.stringify(isolation)} - linux only supports 'default'`);
  }
  checkNamespaceModes(given.other);
}

/**
 * --security-opt, --device, --device-cgroup-rule and --sysctl, checked at create so that a bad
 * one changes nothing; devices get Docker's defaults (same path inside, rwm).
 */
function checkSecuritySettings(other: Record<string, unknown>, networkMode: string | undefined): void {
  parseSecurityOpts((other.SecurityOpt as string[] | undefined) ?? []);
  if (Array.isArray(other.Devices)) {
    other.Devices = (other.Devices as DeviceMapping[]).map((device) => ({
      PathOnHost: device.PathOnHost,
      PathInContainer: device.PathInContainer || device.PathOnHost,
      CgroupPermissions: device.CgroupPermissions || 'rwm',
    }));
    (other.Devices as DeviceMapping[]).forEach(checkDeviceMapping);
  }
  ((other.DeviceCgroupRules as string[] | undefined) ?? []).forEach(deviceCgroupRule);
  checkSysctls((other.Sysctls as Record<string, string> | undefined) ?? {}, { ipc: other.IpcMode === 'host', network: networkMode === 'host', uts: other.UTSMode === 'host' });
}

/**
 * Moby's ValidateRestartPolicy and its AutoRemove check, with its messages. An empty name is
 * "no" (moby's default since API 1.44 is filled in at create).
 */
export function checkRestartPolicy(given: { AutoRemove?: boolean; RestartPolicy?: RestartPolicy }): RestartPolicy {
  const name = given.RestartPolicy?.Name || 'no';
  const count = given.RestartPolicy?.MaximumRetryCount ?? 0;
  if (given.AutoRemove && name !== 'no') throw invalidParameter("can't create 'AutoRemove' container with restart policy");
  if (!RESTART_POLICIES.includes(name)) {
    throw invalidParameter(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (name === 'on-failure' && count < 0) throw invalidParameter('invalid restart policy: maximum retry count cannot be negative');
  if (name !== 'on-failure' && count !== 0) {
    const negative = count < 0 ? ' and cannot be negative' : '';
    throw invalidParameter(`invalid restart policy: maximum retry count can only be used with 'on-failure'${negative}`);
  }
  return { Name: name, MaximumRetryCount: count };
}

/**
 * The network mode as Docker records it ("default" stays "default"); which networks exist is
 * checked by the networking at create (ContainerNetworking.plan).
 */
function networkMode(given: HostConfigRequest): string {
  return given.NetworkMode || 'default';
}

/**
 * HostConfig with the daemon's defaults filled in, as inspect shows it, and the warnings the
 * create response carries.
 */
export function completeHostConfig(
  given: HostConfigRequest,
  defaultRuntime: string,
  features: CgroupFeatures,
): { hostConfig: HostConfig; warnings: string[] } {
  refuseUnsupported(given.other);
  checkHostSettings(given);
  checkSecuritySettings(given.other, given.NetworkMode);
  const limits = checkResourceLimits(resourceFields(given.other), features, { update: false });
  const restartPolicy = checkRestartPolicy(given);
  const warnings: string[] = [...limits.warnings];
  // API 1.42 and later ignore KernelMemory and KernelMemoryTCP (moby drops them before anything);
  // berthd says so rather than dropping them unseen.
  const { KernelMemory: kernelMemory, KernelMemoryTCP: kernelMemoryTcp, ...other } = given.other;
  if (!isUnset(kernelMemory) || !isUnset(kernelMemoryTcp)) {
    warnings.push('Kernel memory limits (--kernel-memory) are no longer supported by API v1.42 and later: KernelMemory discarded.');
  }
  // The host's own ports are the container's: there is nothing to publish (moby warns the same).
  const bindings = other.PortBindings as Record<string, unknown> | null | undefined;
  if (given.NetworkMode === 'host' && bindings && Object.keys(bindings).length > 0) warnings.push('Published ports are discarded when using host network mode');
  const hostConfig: HostConfig = {
    ...RESOURCE_DEFAULTS,
    ...other,
    ...withCreateDefaults(limits.limits),
    OomScoreAdj: other.OomScoreAdj ?? 0,
    AutoRemove: given.AutoRemove ?? false,
    Runtime: given.Runtime || defaultRuntime,
    CapAdd: given.CapAdd ?? null,
    CapDrop: given.CapDrop ?? null,
    ReadonlyRootfs: given.ReadonlyRootfs ?? false,
    ShmSize: given.ShmSize || DEFAULT_SHM_SIZE,
    ConsoleSize: given.ConsoleSize ?? [0, 0],
    NetworkMode: networkMode(given),
    LogConfig: logConfig(given.LogConfig),
    RestartPolicy: restartPolicy,
    // Docker's defaults on cgroup v1 (daemon.json default-cgroupns-mode and default-ipc-mode).
    CgroupnsMode: (other.CgroupnsMode as string | undefined) || 'host',
    IpcMode: (other.IpcMode as string | undefined) || 'private',
  };
  return { hostConfig, warnings };
}

// Go's GOARCH names of the architectures node reports (process.arch).
const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
const ARCH_ALIASES: Readonly<Record<string, string>> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386' };

/**
 * The `platform` of a create (--platform): berthd runs containers of the host's platform only
 * (it has no emulation and pulls no other variants), so any other one is refused by name.
 */
export function checkPlatform(platform: string | undefined): void {
  if (!platform) return;
  const [os = '', arch = '', variant] = platform.toLowerCase().split('/');
  if (os === '' || platform.split('/').length > 3) throw invalidParameter(`"${platform}": unknown operating system or architecture: invalid argument`);
  const host = `linux/${GO_ARCH[process.arch] ?? process.arch}`;
  const asked = `${os}/${ARCH_ALIASES[arch] ?? (arch || GO_ARCH[process.arch])}`;
  if (asked !== host || (variant !== undefined && variant !== '')) {
    throw invalidParameter(`platform "${platform}" is not supported by berthd: it runs ${host} containers only`);
  }
}

/** Docker's process environment: PATH default, HOSTNAME, TERM for a tty, then the config's Env. */
export function processEnv(config: ContainerConfig, hostname: string): string[] {
  const env = config.Env ?? [];
  const base = [DEFAULT_PATH, `HOSTNAME=${hostname}`, ...(config.Tty ? ['TERM=xterm'] : [])];
  const keys = new Set(env.map(envKey));
  return [...base.filter((e) => !keys.has(envKey(e))), ...env];
}
