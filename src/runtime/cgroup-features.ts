/**
 * Which resource limits the host's cgroups can enforce, probed once at daemon start (moby's
 * pkg/sysinfo does the same). The engine refuses or discards, with Docker's warnings, a limit the
 * kernel would not apply, instead of letting the runtime fail or silently drop it. Takes the
 * cgroup root, so the v2 probe is tested on a recorded v2 tree on these v1 machines.
 */
import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidParameter } from '../common/errors.js';
import type { CgroupInfo } from './cgroups.js';
import { v2Controllers } from './cgroups.js';

export interface CgroupFeatures {
  memoryLimit: boolean;
  /** memory+swap limits (v1: memory.memsw.*, which needs swap accounting). */
  swapLimit: boolean;
  memoryReservation: boolean;
  memorySwappiness: boolean;
  /** v1 only: memory.oom_control. */
  oomKillDisable: boolean;
  cpuShares: boolean;
  /** CFS period and quota (--cpus, --cpu-period, --cpu-quota). */
  cpuCfs: boolean;
  cpuset: boolean;
  /** The CPUs and memory nodes containers may be pinned to, e.g. "0-1" and "0". */
  cpusetCpus: string;
  cpusetMems: string;
  pidsLimit: boolean;
  blkioWeight: boolean;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

const readTrimmed = (path: string) => readFile(path, 'utf8').then((text) => text.trim(), () => '');

async function v1Features(root: string): Promise<CgroupFeatures> {
  const has = (controller: string, file: string) => exists(join(root, controller, file));
  const [memoryLimit, swapLimit, memoryReservation, memorySwappiness, oomKillDisable, cpuShares, cpuCfs, pidsLimit] = await Promise.all([
    has('memory', 'memory.limit_in_bytes'),
    has('memory', 'memory.memsw.limit_in_bytes'),
    has('memory', 'memory.soft_limit_in_bytes'),
    has('memory', 'memory.swappiness'),
    has('memory', 'memory.oom_control'),
    has('cpu', 'cpu.shares'),
    has('cpu', 'cpu.cfs_quota_us'),
    exists(join(root, 'pids')),
  ]);
  // CFQ's blkio.weight, or BFQ's blkio.bfq.weight; neither exists with mq-deadline or none.
  const blkioWeight = (await has('blkio', 'blkio.weight')) || (await has('blkio', 'blkio.bfq.weight'));
  const cpusetCpus = await readTrimmed(join(root, 'cpuset', 'cpuset.cpus'));
  const cpusetMems = await readTrimmed(join(root, 'cpuset', 'cpuset.mems'));
  return {
    memoryLimit,
    swapLimit,
    memoryReservation,
    memorySwappiness,
    oomKillDisable,
    cpuShares,
    cpuCfs,
    cpuset: cpusetCpus !== '',
    cpusetCpus,
    cpusetMems,
    pidsLimit,
    blkioWeight,
  };
}

/** A cgroup below the root where memory is enabled shows memory.swap.max when swap accounting is on. */
async function v2SwapAccounting(root: string): Promise<boolean> {
  const stack = [root];
  for (let depth = 0; depth < 3 && stack.length > 0; depth++) {
    const level = stack.splice(0);
    for (const dir of level) {
      if (dir !== root && (await exists(join(dir, 'memory.swap.max')))) return true;
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      stack.push(...entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name)));
    }
  }
  return false;
}

async function v2Features(root: string): Promise<CgroupFeatures> {
  const controllers = new Set(await v2Controllers(root));
  const memory = controllers.has('memory');
  const cpuset = controllers.has('cpuset');
  return {
    memoryLimit: memory,
    swapLimit: memory && (await v2SwapAccounting(root)),
    memoryReservation: memory,
    // cgroup v2 has neither a per-cgroup swappiness nor a way to turn the OOM killer off.
    memorySwappiness: false,
    oomKillDisable: false,
    cpuShares: controllers.has('cpu'),
    cpuCfs: controllers.has('cpu'),
    cpuset,
    cpusetCpus: cpuset ? await readTrimmed(join(root, 'cpuset.cpus.effective')) : '',
    cpusetMems: cpuset ? await readTrimmed(join(root, 'cpuset.mems.effective')) : '',
    pidsLimit: controllers.has('pids'),
    blkioWeight: controllers.has('io'),
  };
}

export function detectCgroupFeatures(root: string, info: CgroupInfo): Promise<CgroupFeatures> {
  return info.version === '2' ? v2Features(root) : v1Features(root);
}

/**
 * The numbers of a cpuset list ("0-2,4"), as moby's parsers.ParseUintListMaximum: "invalid format"
 * when malformed, and none above `maximum`, checked before a range is expanded so that a huge
 * range is refused instead of filling memory.
 */
export function parseCpuList(list: string, maximum = Number.MAX_SAFE_INTEGER): Set<number> {
  const numbers = new Set<number>();
  if (list === '') return numbers;
  for (const part of list.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) throw invalidParameter(`invalid format: ${list}`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw invalidParameter(`invalid format: ${list}`);
    if (to > maximum) throw invalidParameter(`value of out range, maximum is ${maximum}`);
    for (let n = from; n <= to; n++) numbers.add(n);
  }
  return numbers;
}
