/**
 * Resource limits: Docker's checks and messages, what a host without a controller discards (with
 * Docker's warnings), the defaults inspect shows, the OCI resources the runtime gets; and the
 * cgroup feature probe on this (v1) host and on the recorded v2 tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkResourceLimits, ociResources, ociRlimits, withCreateDefaults, type ResourceLimits } from '../../src/engine/containers/resource-limits.js';
import { detectCgroupFeatures, parseCpuList } from '../../src/runtime/cgroup-features.js';
import { controllerFile, detectCgroups, liftPidsLimit } from '../../src/runtime/cgroups.js';
import { ALL_CGROUP_FEATURES } from '../helpers/fake-runtime.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/cgroup-v2');
const MiB = 1024 * 1024;
const check = (given: ResourceLimits, update = false, features = ALL_CGROUP_FEATURES) => checkResourceLimits(given, features, { update });

test("out-of-range limits get Docker's messages", () => {
  const cases: Array<[ResourceLimits, RegExp]> = [
    [{ Memory: 1 }, /^BerthError: Minimum memory limit allowed is 6MB$/],
    [{ Memory: -5 }, /Minimum memory limit allowed is 6MB/],
    [{ Memory: 64 * MiB, MemorySwap: 32 * MiB }, /Minimum memoryswap limit should be larger than memory limit, see usage/],
    [{ MemorySwap: 32 * MiB }, /You should always set the Memory limit when using Memoryswap limit, see usage/],
    [{ MemoryReservation: MiB }, /Minimum memory reservation allowed is 6MB/],
    [{ Memory: 16 * MiB, MemoryReservation: 32 * MiB }, /Minimum memory limit can not be less than memory reservation limit, see usage/],
    [{ MemorySwappiness: 101 }, /Invalid value: 101, valid memory swappiness range is 0-100/],
    [{ NanoCpus: -1e9 }, /^BerthError: Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available$/],
    [{ NanoCpus: 1e12 }, /Range of CPUs is from 0\.01/],
    [{ NanoCpus: 5e8, CpuPeriod: 100000 }, /Conflicting options: Nano CPUs and CPU Period cannot both be set/],
    [{ NanoCpus: 5e8, CpuQuota: 50000 }, /Conflicting options: Nano CPUs and CPU Quota cannot both be set/],
    [{ CpuPeriod: 999 }, /CPU cfs period can not be less than 1ms \(i\.e\. 1000\) or larger than 1s \(i\.e\. 1000000\)/],
    [{ CpuQuota: 999 }, /CPU cfs quota can not be less than 1ms \(i\.e\. 1000\)/],
    [{ CpusetCpus: '0-x' }, /Invalid value 0-x for cpuset cpus: invalid format: 0-x/],
    [{ CpusetCpus: '1,0-99999999999' }, /^BerthError: Invalid value 1,0-99999999999 for cpuset cpus: value of out range, maximum is 8192$/],
    [{ CpusetMems: '9000' }, /^BerthError: Invalid value 9000 for cpuset mems: value of out range, maximum is 8192$/],
    [{ CpusetCpus: '7' }, /Requested CPUs are not available - requested 7, available: 0-1/],
    [{ CpusetMems: '1' }, /Requested memory nodes are not available - requested 1, available: 0/],
    [{ BlkioWeight: 5 }, /Range of blkio weight is from 10 to 1000/],
    [{ Ulimits: [{ Name: 'nofiles', Soft: 1, Hard: 1 }] }, /invalid ulimit type: nofiles/],
    [{ Ulimits: [{ Name: 'nofile', Soft: 2, Hard: 1 }] }, /ulimit soft limit must be less than or equal to hard limit: 2 > 1/],
  ];
  for (const [given, message] of cases) assert.throws(() => check(given), message, JSON.stringify(given));
  // An update may give the swap alone (the memory is the container's).
  assert.doesNotThrow(() => check({ MemorySwap: 32 * MiB }, true));
});

test("what the host cannot enforce is discarded with Docker's warning", () => {
  const none = { ...ALL_CGROUP_FEATURES, swapLimit: false, blkioWeight: false, oomKillDisable: false, pidsLimit: false, memorySwappiness: false };
  const { limits, warnings } = check({ Memory: 64 * MiB, BlkioWeight: 300, OomKillDisable: true, PidsLimit: 10, MemorySwappiness: 10 }, false, none);
  assert.equal(limits.MemorySwap, -1);
  assert.equal(limits.BlkioWeight, 0);
  assert.equal(limits.OomKillDisable, null);
  assert.equal(limits.PidsLimit, null);
  assert.equal(limits.MemorySwappiness, null);
  assert.deepEqual(warnings, [
    'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
    'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
    'Your kernel does not support OomKillDisable. OomKillDisable discarded.',
    'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
    'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
  ]);
  assert.deepEqual(check({ OomKillDisable: true }).warnings, [
    'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.',
  ]);
});

test('create defaults: swap twice the memory, OomKillDisable false', () => {
  assert.deepEqual(withCreateDefaults({ Memory: 64 * MiB }), { Memory: 64 * MiB, MemorySwap: 128 * MiB, OomKillDisable: false });
  assert.equal(withCreateDefaults({ Memory: 64 * MiB, MemorySwap: -1 }).MemorySwap, -1);
  assert.equal(withCreateDefaults({}).MemorySwap, undefined);
});

test('OCI resources and rlimits as moby sets them', () => {
  assert.deepEqual(
    ociResources({ Memory: 64 * MiB, MemorySwap: 128 * MiB, MemoryReservation: 32 * MiB, OomKillDisable: true, NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '1', PidsLimit: 20, BlkioWeight: 300 }),
    {
      memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 128 * MiB, disableOOMKiller: true },
      cpu: { shares: 512, period: 100000, quota: 150000, cpus: '1' },
      pids: { limit: 20 },
      blockIO: { weight: 300 },
    },
  );
  assert.deepEqual(ociResources({ CpuPeriod: 50000, CpuQuota: 25000, PidsLimit: -1, OomKillDisable: false }), {
    memory: { disableOOMKiller: false },
    cpu: { period: 50000, quota: 25000 },
  });
  assert.deepEqual(ociResources({}), {});
  assert.deepEqual(ociRlimits([{ Name: 'nofile', Soft: 1024, Hard: 2048 }]), [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }]);
  assert.deepEqual(ociRlimits(null), []);
});

test('cpuset lists parse as moby does', () => {
  assert.deepEqual([...parseCpuList('0-2,4')!], [0, 1, 2, 4]);
  assert.throws(() => parseCpuList('2-1'), /^BerthError: invalid format: 2-1$/);
  assert.throws(() => parseCpuList('a'), /^BerthError: invalid format: a$/);
  assert.throws(() => parseCpuList('0-4', 3), /^BerthError: value of out range, maximum is 3$/);
  assert.deepEqual([...parseCpuList('')!], []);
});

test('cgroup features on the recorded v2 tree', async () => {
  const features = await detectCgroupFeatures(FIXTURE, { version: '2', driver: 'cgroupfs', hybrid: false });
  assert.deepEqual(features, {
    memoryLimit: true,
    swapLimit: true, // memory.swap.max in the containers' cgroups
    memoryReservation: true,
    memorySwappiness: false,
    oomKillDisable: false,
    cpuShares: true,
    cpuCfs: true,
    cpuset: true,
    cpusetCpus: '0-3',
    cpusetMems: '0',
    pidsLimit: true,
    blkioWeight: true,
  });
});

test('cgroup features of this host agree with its cgroup files', async () => {
  const info = await detectCgroups();
  const features = await detectCgroupFeatures('/sys/fs/cgroup', info);
  assert.equal(features.memoryLimit, true);
  assert.equal(features.cpuCfs, true);
  assert.match(features.cpusetCpus, /^[0-9,-]+$/);
  if (info.version === '1') assert.equal(features.oomKillDisable, true);
});

test('a container cgroup file is found per version; lifting a pids limit writes "max" there', async () => {
  const v1 = { version: '1', driver: 'cgroupfs', hybrid: true } as const;
  const v2 = { version: '2', driver: 'cgroupfs', hybrid: false } as const;
  assert.equal(controllerFile('/sys/fs/cgroup', v1, '/berth/c1', 'pids', 'pids.max'), '/sys/fs/cgroup/pids/berth/c1/pids.max');
  assert.equal(controllerFile(FIXTURE, v2, '/berth/c1', 'pids', 'pids.max'), `${FIXTURE}/berth/c1/pids.max`);
  const writes: Array<[string, string]> = [];
  const fs = { mkdir: async () => {}, rmdir: async () => {}, write: async (path: string, text: string) => void writes.push([path, text]) };
  const C1 = '/berth/c0ffee0000000000000000000000000000000000000000000000000000000001';
  await liftPidsLimit(FIXTURE, v2, C1, fs);
  assert.deepEqual(writes, [[join(FIXTURE, C1, 'pids.max'), 'max']]);
});
