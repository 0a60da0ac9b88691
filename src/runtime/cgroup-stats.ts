/**
 * A container's resource figures, read from its cgroup files (v1: one folder per controller
 * hierarchy; v2: one folder with every controller's files) and from /proc (host CPU time, the
 * container's network interfaces as its init process sees them). Roots are parameters so the v2
 * reader is tested on a recorded tree.
 */
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { errnoCode } from '../common/errors.js';
import type { CgroupInfo } from './cgroups.js';
import type { RuntimeStats } from './container-runtime.js';

export interface StatsSource {
  /** The cgroup file system root (/sys/fs/cgroup). */
  root: string;
  cgroups: CgroupInfo;
  /** The container's cgroupsPath, e.g. /berth/ID. */
  cgroupsPath: string;
  /** The container's init process, for its network namespace. */
  pid: number;
  /** /proc, or a recorded copy. */
  procRoot?: string;
}

// cpuacct.stat and /proc/stat count in USER_HZ ticks, 100 per second on Linux.
const NS_PER_TICK = 1e9 / 100;
// v1 says "no limit" with the largest page-aligned signed 64-bit value.
const V1_UNLIMITED = 2 ** 62;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    // A controller that is not enabled (or not mounted) has no files: its figures are absent.
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function readNumber(path: string): Promise<number | undefined> {
  const text = (await readText(path))?.trim();
  if (text === undefined || text === '' || text === 'max') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat). */
export function parseKeyValues(text: string | undefined): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && Number.isFinite(Number(value))) values[key] = Number(value);
  }
  return values;
}

/** A memory limit as Docker shows it: the host's memory when there is none. */
function memoryLimit(limit: number | undefined): number {
  const host = totalmem();
  return limit === undefined || limit >= V1_UNLIMITED || limit > host ? host : limit;
}

/** v2 io.stat: `MAJ:MIN rbytes=N wbytes=N rios=N wios=N …`. */
export function parseIoStat(text: string | undefined): RuntimeStats['blkio'] {
  const entries: RuntimeStats['blkio'] = [];
  const ops: Record<string, string> = { rbytes: 'read', wbytes: 'write' };
  for (const line of (text ?? '').split('\n')) {
    const [device, ...fields] = line.trim().split(/\s+/);
    const [major, minor] = (device ?? '').split(':').map(Number);
    if (!Number.isInteger(major) || !Number.isInteger(minor)) continue;
    for (const field of fields) {
      const [key, value] = field.split('=');
      if (ops[key]) entries.push({ major, minor, op: ops[key], value: Number(value) });
    }
  }
  return entries;
}

/** v1 blkio.throttle.io_service_bytes: `MAJ:MIN Read N` lines and a `Total N`. */
function parseV1Blkio(text: string | undefined): RuntimeStats['blkio'] {
  const entries: RuntimeStats['blkio'] = [];
  for (const line of (text ?? '').split('\n')) {
    const [device, op, value] = line.trim().split(/\s+/);
    const [major, minor] = (device ?? '').split(':').map(Number);
    if (!Number.isInteger(major) || !Number.isInteger(minor) || value === undefined) continue;
    entries.push({ major, minor, op, value: Number(value) });
  }
  return entries;
}

/** /proc/PID/net/dev: the interfaces of the process's network namespace, loopback left out. */
export function parseNetDev(text: string | undefined): RuntimeStats['networks'] {
  const networks: RuntimeStats['networks'] = {};
  for (const line of (text ?? '').split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    networks[name] = {
      rxBytes: f[0], rxPackets: f[1], rxErrors: f[2], rxDropped: f[3],
      txBytes: f[8], txPackets: f[9], txErrors: f[10], txDropped: f[11],
    }; // prettier-ignore
  }
  return networks;
}

/** The host's CPU time (all CPUs, all modes) and the number of CPUs, from /proc/stat. */
async function hostCpu(procRoot: string): Promise<{ systemUsageNs: number; onlineCpus: number }> {
  const lines = ((await readText(join(procRoot, 'stat'))) ?? '').split('\n');
  const total = lines.find((line) => line.startsWith('cpu '));
  const ticks = (total ?? '').split(/\s+/).slice(1, 9).map(Number).filter(Number.isFinite);
  return {
    systemUsageNs: ticks.reduce((sum, t) => sum + t, 0) * NS_PER_TICK,
    onlineCpus: lines.filter((line) => /^cpu\d+ /.test(line)).length,
  };
}

type CgroupFigures = Omit<RuntimeStats, 'read' | 'networks' | 'cpu'> & { cpu: Pick<RuntimeStats['cpu'], 'totalNs' | 'userNs' | 'systemNs' | 'perCpuNs'> };

async function readV2(dir: string): Promise<CgroupFigures> {
  const [cpu, usage, limit, memory, pids, pidsMax, io] = await Promise.all([
    readText(join(dir, 'cpu.stat')).then(parseKeyValues),
    readNumber(join(dir, 'memory.current')),
    readNumber(join(dir, 'memory.max')),
    readText(join(dir, 'memory.stat')).then(parseKeyValues),
    readNumber(join(dir, 'pids.current')),
    readNumber(join(dir, 'pids.max')),
    readText(join(dir, 'io.stat')),
  ]);
  return {
    cpu: {
      totalNs: (cpu.usage_usec ?? 0) * 1000,
      userNs: (cpu.user_usec ?? 0) * 1000,
      systemNs: (cpu.system_usec ?? 0) * 1000,
      perCpuNs: [], // v2 has no per-CPU figures
    },
    memory: { usage: usage ?? 0, limit: memoryLimit(limit), stats: memory },
    pids: { current: pids ?? 0, ...(pidsMax !== undefined ? { limit: pidsMax } : {}) },
    blkio: parseIoStat(io),
  };
}

async function readV1(root: string, cgroupsPath: string): Promise<CgroupFigures> {
  const file = (controller: string, name: string) => join(root, controller, cgroupsPath, name);
  const [total, cpuTicks, perCpu, usage, limit, maxUsage, memory, pids, pidsMax, blkio] = await Promise.all([
    readNumber(file('cpuacct', 'cpuacct.usage')),
    readText(file('cpuacct', 'cpuacct.stat')).then(parseKeyValues),
    readText(file('cpuacct', 'cpuacct.usage_percpu')),
    readNumber(file('memory', 'memory.usage_in_bytes')),
    readNumber(file('memory', 'memory.limit_in_bytes')),
    readNumber(file('memory', 'memory.max_usage_in_bytes')),
    readText(file('memory', 'memory.stat')).then(parseKeyValues),
    readNumber(file('pids', 'pids.current')),
    readNumber(file('pids', 'pids.max')),
    readText(file('blkio', 'blkio.throttle.io_service_bytes')),
  ]);
  return {
    cpu: {
      totalNs: total ?? 0,
      userNs: (cpuTicks.user ?? 0) * NS_PER_TICK,
      systemNs: (cpuTicks.system ?? 0) * NS_PER_TICK,
      perCpuNs: (perCpu ?? '').trim().split(/\s+/).filter((v) => v !== '').map(Number),
    },
    memory: { usage: usage ?? 0, limit: memoryLimit(limit), ...(maxUsage !== undefined ? { maxUsage } : {}), stats: memory },
    pids: { current: pids ?? 0, ...(pidsMax !== undefined ? { limit: pidsMax } : {}) },
    blkio: parseV1Blkio(blkio),
  };
}

export async function readContainerStats(source: StatsSource): Promise<RuntimeStats> {
  const procRoot = source.procRoot ?? '/proc';
  const [figures, host, netDev] = await Promise.all([
    source.cgroups.version === '2' ? readV2(join(source.root, source.cgroupsPath)) : readV1(source.root, source.cgroupsPath),
    hostCpu(procRoot),
    readText(join(procRoot, String(source.pid), 'net', 'dev')),
  ]);
  return {
    read: new Date(),
    cpu: { ...figures.cpu, ...host },
    memory: figures.memory,
    pids: figures.pids,
    blkio: figures.blkio,
    networks: parseNetDev(netDev),
  };
}

/** Host pids of the processes in the container's cgroup (v1: the pids hierarchy's folder). */
export async function readCgroupProcesses(source: Omit<StatsSource, 'pid' | 'procRoot'>): Promise<number[]> {
  const dir = source.cgroups.version === '2' ? join(source.root, source.cgroupsPath) : join(source.root, 'pids', source.cgroupsPath);
  const text = await readText(join(dir, 'cgroup.procs'));
  return (text ?? '').split('\n').filter((line) => line !== '').map(Number);
}
