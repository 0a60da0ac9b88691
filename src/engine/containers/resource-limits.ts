/**
 * A container's resource limits (HostConfig's Resources: memory, CPU, cpuset, pids, block I/O,
 * ulimits, OOM settings), checked against what the host's cgroups enforce with the messages and
 * warnings of moby's verifyPlatformContainerResources and adaptContainerSettings, and turned into
 * the OCI `linux.resources` the runtime applies. Used at create and at update.
 */
import { availableParallelism } from 'node:os';
import { invalidParameter, wrap } from '../../common/errors.js';
import { parseCpuList, type CgroupFeatures } from '../../runtime/cgroup-features.js';
import type { OciResources } from '../../runtime/oci-spec.js';
import type { OciRlimit } from '../../runtime/rlimits.js';
import type { ResourcesWire, UlimitWire } from '../../wire/containers.js';

/** One HostConfig.Ulimits entry, as Docker names it ("nofile"). */
export type Ulimit = UlimitWire;

/** The Resources fields of HostConfig berthd carries out, with Docker's names; absent = not set. */
export type ResourceLimits = ResourcesWire;

export const RESOURCE_FIELDS: ReadonlyArray<keyof ResourceLimits> = [
  'Memory',
  'MemorySwap',
  'MemoryReservation',
  'MemorySwappiness',
  'NanoCpus',
  'CpuShares',
  'CpuPeriod',
  'CpuQuota',
  'CpusetCpus',
  'CpusetMems',
  'PidsLimit',
  'BlkioWeight',
  'OomKillDisable',
  'Ulimits',
];

const MIN_MEMORY = 6 * 1024 * 1024; // moby's linuxMinMemory
const DEFAULT_CPU_PERIOD = 100_000; // µs, the kernel's and moby's
const MAX_CPUSET_ID = 8192;

/** The resource fields of a HostConfig (as the decoder passed them on, types checked). */
export function resourceFields(source: Readonly<Record<string, unknown>>): ResourceLimits {
  const limits: Record<string, unknown> = {};
  for (const field of RESOURCE_FIELDS) if (source[field] !== undefined) limits[field] = source[field];
  return limits as ResourceLimits;
}

/** The rlimit names Docker's units.ParseUlimit knows, as OCI names them. */
const ULIMIT_NAMES: Readonly<Record<string, string>> = {
  as: 'RLIMIT_AS',
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
};

function checkUlimits(ulimits: readonly Ulimit[]): void {
  for (const { Name, Soft, Hard } of ulimits) {
    if (!ULIMIT_NAMES[Name]) throw invalidParameter(`invalid ulimit type: ${Name}`);
    if (Soft > Hard) throw invalidParameter(`ulimit soft limit must be less than or equal to hard limit: ${Soft} > ${Hard}`);
  }
}

function checkCpuset(value: string, available: string, what: 'cpus' | 'mems'): void {
  if (value === '') return;
  const offered = parseCpuList(available);
  // 8192 is Linux's usual maximum of CPUs; a host with more allows its own.
  const maximum = Math.max(MAX_CPUSET_ID, ...offered);
  let requested: Set<number>;
  try {
    requested = parseCpuList(value, maximum);
  } catch (err) {
    throw wrap(err, `Invalid value ${value} for cpuset ${what}`);
  }
  if ([...requested].some((n) => !offered.has(n))) {
    throw what === 'cpus'
      ? invalidParameter(`Requested CPUs are not available - requested ${value}, available: ${available}`)
      : invalidParameter(`Requested memory nodes are not available - requested ${value}, available: ${available}`);
  }
}

function checkMemory(r: ResourceLimits, features: CgroupFeatures, update: boolean, warnings: string[]): void {
  const memory = r.Memory ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw invalidParameter('Minimum memory limit allowed is 6MB');
  if (memory > 0 && !features.memoryLimit) {
    warnings.push('Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    r.Memory = 0;
    r.MemorySwap = -1;
  }
  if ((r.Memory ?? 0) > 0 && r.MemorySwap !== -1 && !features.swapLimit) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    r.MemorySwap = -1;
  }
  const swap = r.MemorySwap ?? 0;
  if ((r.Memory ?? 0) > 0 && swap > 0 && swap < (r.Memory ?? 0)) {
    throw invalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if ((r.Memory ?? 0) === 0 && swap > 0 && !update) {
    throw invalidParameter('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  const swappiness = r.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1) {
    if (!features.memorySwappiness) {
      warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
      r.MemorySwappiness = null;
    } else if (swappiness < 0 || swappiness > 100) {
      throw invalidParameter(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
    }
  }
  const reservation = r.MemoryReservation ?? 0;
  if (reservation > 0 && !features.memoryReservation) {
    warnings.push('Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
    r.MemoryReservation = 0;
  }
  if ((r.MemoryReservation ?? 0) > 0 && (r.MemoryReservation ?? 0) < MIN_MEMORY) throw invalidParameter('Minimum memory reservation allowed is 6MB');
  if ((r.Memory ?? 0) > 0 && (r.MemoryReservation ?? 0) > 0 && (r.Memory ?? 0) < (r.MemoryReservation ?? 0)) {
    throw invalidParameter('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (r.OomKillDisable !== undefined && r.OomKillDisable !== null && !features.oomKillDisable) {
    if (r.OomKillDisable) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    r.OomKillDisable = null;
  }
  if (r.OomKillDisable && (r.Memory ?? 0) === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
}

function checkCpu(r: ResourceLimits, features: CgroupFeatures, warnings: string[]): void {
  const nano = r.NanoCpus ?? 0;
  if (nano > 0 && (r.CpuPeriod ?? 0) > 0) throw invalidParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (r.CpuQuota ?? 0) > 0) throw invalidParameter('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano > 0 && !features.cpuCfs) {
    throw invalidParameter('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted');
  }
  const cpus = availableParallelism();
  if (nano < 0 || nano > cpus * 1e9) {
    throw invalidParameter(`Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`);
  }
  if ((r.CpuShares ?? 0) < 0) throw invalidParameter(`invalid CPU shares (${r.CpuShares}): value must be a positive integer`);
  if ((r.CpuShares ?? 0) > 0 && !features.cpuShares) {
    warnings.push('Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
    r.CpuShares = 0;
  }
  if (((r.CpuPeriod ?? 0) !== 0 || (r.CpuQuota ?? 0) !== 0) && !features.cpuCfs) {
    warnings.push('Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.');
    r.CpuPeriod = 0;
    r.CpuQuota = 0;
  }
  const period = r.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) {
    throw invalidParameter('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if ((r.CpuQuota ?? 0) > 0 && (r.CpuQuota ?? 0) < 1000) throw invalidParameter('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if ((r.CpusetCpus || r.CpusetMems) && !features.cpuset) {
    warnings.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
    r.CpusetCpus = '';
    r.CpusetMems = '';
  }
  checkCpuset(r.CpusetCpus ?? '', features.cpusetCpus, 'cpus');
  checkCpuset(r.CpusetMems ?? '', features.cpusetMems, 'mems');
}

function checkOthers(r: ResourceLimits, features: CgroupFeatures, warnings: string[]): void {
  if (r.PidsLimit !== undefined && r.PidsLimit !== null && !features.pidsLimit) {
    if (r.PidsLimit > 0) warnings.push('Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
    r.PidsLimit = null;
  }
  if ((r.BlkioWeight ?? 0) > 0 && !features.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    r.BlkioWeight = 0;
  }
  const weight = r.BlkioWeight ?? 0;
  if (weight > 0 && (weight < 10 || weight > 1000)) throw invalidParameter('Range of blkio weight is from 10 to 1000');
  checkUlimits(r.Ulimits ?? []);
}

/**
 * Checks `given` (create, or the fields an update changes) and returns the limits as they will be
 * applied, with what the host cannot enforce discarded and said in a warning, as dockerd does.
 */
export function checkResourceLimits(
  given: ResourceLimits,
  features: CgroupFeatures,
  options: { update: boolean },
): { limits: ResourceLimits; warnings: string[] } {
  const limits: ResourceLimits = { ...given };
  const warnings: string[] = [];
  checkMemory(limits, features, options.update, warnings);
  checkCpu(limits, features, warnings);
  checkOthers(limits, features, warnings);
  return { limits, warnings };
}

/** moby's adaptContainerSettings: with a memory limit and no swap limit, swap is as big as memory. */
export function withCreateDefaults(limits: ResourceLimits): ResourceLimits {
  const adapted: ResourceLimits = { ...limits, OomKillDisable: limits.OomKillDisable ?? false };
  if ((limits.Memory ?? 0) > 0 && (limits.MemorySwap ?? 0) === 0) adapted.MemorySwap = (limits.Memory ?? 0) * 2;
  return adapted;
}

const nonZero = (value: number | undefined | null): value is number => value !== undefined && value !== null && value !== 0;

/** The OCI `linux.resources` limits (devices aside) of these settings, as moby's oci_linux.go sets them. */
export function ociResources(r: ResourceLimits): OciResources {
  const resources: OciResources = {};
  const memory: NonNullable<OciResources['memory']> = {};
  if (nonZero(r.Memory)) memory.limit = r.Memory;
  if (nonZero(r.MemoryReservation)) memory.reservation = r.MemoryReservation;
  if (nonZero(r.MemorySwap)) memory.swap = r.MemorySwap;
  if (r.MemorySwappiness !== undefined && r.MemorySwappiness !== null && r.MemorySwappiness >= 0) memory.swappiness = r.MemorySwappiness;
  if (r.OomKillDisable !== undefined && r.OomKillDisable !== null) memory.disableOOMKiller = r.OomKillDisable;
  if (Object.keys(memory).length > 0) resources.memory = memory;
  const cpu: NonNullable<OciResources['cpu']> = {};
  if (nonZero(r.CpuShares)) cpu.shares = r.CpuShares;
  if (nonZero(r.NanoCpus)) {
    cpu.period = DEFAULT_CPU_PERIOD;
    cpu.quota = Math.round((r.NanoCpus * DEFAULT_CPU_PERIOD) / 1e9);
  } else {
    if (nonZero(r.CpuPeriod)) cpu.period = r.CpuPeriod;
    if (nonZero(r.CpuQuota)) cpu.quota = r.CpuQuota;
  }
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  if (Object.keys(cpu).length > 0) resources.cpu = cpu;
  if (r.PidsLimit !== undefined && r.PidsLimit !== null && r.PidsLimit > 0) resources.pids = { limit: r.PidsLimit };
  if (nonZero(r.BlkioWeight)) resources.blockIO = { weight: r.BlkioWeight };
  return resources;
}

/** HostConfig.Ulimits as OCI rlimits (the runtime clamps them to the host's hard limits). */
export function ociRlimits(ulimits: readonly Ulimit[] | null | undefined): OciRlimit[] {
  return (ulimits ?? []).map(({ Name, Soft, Hard }) => ({ type: ULIMIT_NAMES[Name] ?? `RLIMIT_${Name.toUpperCase()}`, soft: Soft, hard: Hard }));
}
