/**
 * cgroup v2 paths on a recorded v2 tree (test/fixtures/cgroup-v2, as a Debian 12 host shows it),
 * with the kernel's rules for mkdir, rmdir and cgroup.subtree_control emulated on a temporary
 * copy; and version detection on this host.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { totalmem, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readContainerStats } from '../../src/runtime/cgroup-stats.js';
import {
  classifyCgroupMount,
  detectCgroups,
  enableV2Controllers,
  removeContainerCgroups,
  v2Controllers,
  type CgroupFs,
  type CgroupInfo,
} from '../../src/runtime/cgroups.js';

// dist/test/unit → the source tree's fixture.
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/cgroup-v2');
const C1 = '/berth/c0ffee0000000000000000000000000000000000000000000000000000000001';
const C2 = '/berth/c0ffee0000000000000000000000000000000000000000000000000000000002';
const V2: CgroupInfo = { version: '2', driver: 'cgroupfs', hybrid: false };

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-cgroups-'));
});
after(() => rm(base, { recursive: true, force: true }));

async function copyOfFixture(name: string): Promise<string> {
  const root = join(base, name);
  await cp(FIXTURE, root, { recursive: true });
  return root;
}

const exists = (path: string) => access(path).then(
  () => true,
  () => false,
);

function errno(code: string): Error {
  return Object.assign(new Error(code), { code });
}

const words = (text: string) => text.split(/\s+/).filter((w) => w !== '');

/** The kernel's rules, on plain files: what mkdir fills in, when rmdir and subtree_control refuse. */
const emulatedKernel: CgroupFs = {
  async mkdir(path) {
    if (await exists(path)) return;
    await mkdir(path);
    const offered = await readFile(join(dirname(path), 'cgroup.subtree_control'), 'utf8');
    await writeFile(join(path, 'cgroup.controllers'), offered);
    await writeFile(join(path, 'cgroup.subtree_control'), '');
    await writeFile(join(path, 'cgroup.procs'), '');
  },
  async rmdir(path) {
    const entries = await readdir(path, { withFileTypes: true });
    if (entries.some((e) => e.isDirectory())) throw errno('EBUSY');
    if ((await readFile(join(path, 'cgroup.procs'), 'utf8')).trim() !== '') throw errno('EBUSY');
    await rm(path, { recursive: true });
  },
  async write(path, text) {
    assert.equal(basename(path), 'cgroup.subtree_control', 'berthd writes only subtree_control');
    const dir = dirname(path);
    const controller = /^\+(\w+)$/.exec(text)?.[1];
    if (!controller || !words(await readFile(join(dir, 'cgroup.controllers'), 'utf8')).includes(controller)) throw errno('EINVAL');
    const enabled = new Set(words(await readFile(path, 'utf8')));
    enabled.add(controller);
    await writeFile(path, `${[...enabled].join(' ')}\n`);
  },
};

test('the cgroup version comes from the file-system types of the root and ROOT/unified', () => {
  const CGROUP2 = 0x63677270;
  const TMPFS = 0x01021994;
  assert.deepEqual(classifyCgroupMount(CGROUP2, undefined), { version: '2', driver: 'cgroupfs', hybrid: false });
  assert.deepEqual(classifyCgroupMount(TMPFS, CGROUP2), { version: '1', driver: 'cgroupfs', hybrid: true });
  assert.deepEqual(classifyCgroupMount(TMPFS, undefined), { version: '1', driver: 'cgroupfs', hybrid: false });
  assert.deepEqual(classifyCgroupMount(TMPFS, TMPFS), { version: '1', driver: 'cgroupfs', hybrid: false });
});

test('detection on this host agrees with /proc/self/mounts', async () => {
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((line) => line.split(' '));
  const typeAt = (path: string) => [...mounts].reverse().find((m) => m[1] === path)?.[2];
  const expected: CgroupInfo =
    typeAt('/sys/fs/cgroup') === 'cgroup2'
      ? V2
      : { version: '1', driver: 'cgroupfs', hybrid: typeAt('/sys/fs/cgroup/unified') === 'cgroup2' };
  assert.deepEqual(await detectCgroups(), expected);
});

test('v2 stats: cpu.stat, memory.current/max/stat, pids, io.stat, and the networks from /proc', async () => {
  const proc = join(base, 'proc');
  await mkdir(join(proc, '4242', 'net'), { recursive: true });
  await writeFile(
    join(proc, 'stat'),
    ['cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0', 'cpu0 5066076 145348 1542359 23414241 8341 0 12597 0 0 0', 'cpu1 5066077 145348 1542360 23414242 8342 0 12598 0 0 0', 'intr 1'].join('\n'),
  );
  await writeFile(
    join(proc, '4242', 'net', 'dev'),
    [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0',
      '  eth0:    1296      16    1    2    0     0          0         0      936      12    3    4    0     0       0          0',
    ].join('\n'),
  );
  const stats = await readContainerStats({ root: FIXTURE, cgroups: V2, cgroupsPath: C1, pid: 4242, procRoot: proc });
  assert.deepEqual(stats.cpu, {
    totalNs: 25_819_000,
    userNs: 10_542_000,
    systemNs: 15_277_000,
    perCpuNs: [],
    systemUsageNs: (10132153 + 290696 + 3084719 + 46828483 + 16683 + 25195) * 10_000_000,
    onlineCpus: 2,
  });
  assert.equal(stats.memory.usage, 1875968);
  assert.equal(stats.memory.limit, 67108864);
  assert.equal(stats.memory.maxUsage, undefined);
  assert.equal(stats.memory.stats.anon, 290816);
  assert.equal(stats.memory.stats.inactive_file, 356352);
  assert.equal(stats.memory.stats.pgfault, 1398);
  assert.deepEqual(stats.pids, { current: 2 });
  assert.deepEqual(stats.blkio, [
    { major: 8, minor: 0, op: 'read', value: 1310720 },
    { major: 8, minor: 0, op: 'write', value: 4096 },
    { major: 253, minor: 0, op: 'read', value: 1310720 },
    { major: 253, minor: 0, op: 'write', value: 4096 },
  ]);
  assert.deepEqual(stats.networks, {
    eth0: { rxBytes: 1296, rxPackets: 16, rxErrors: 1, rxDropped: 2, txBytes: 936, txPackets: 12, txErrors: 3, txDropped: 4 },
  });

  const unlimited = await readContainerStats({ root: FIXTURE, cgroups: V2, cgroupsPath: C2, pid: 5120, procRoot: proc });
  assert.equal(unlimited.memory.limit, totalmem(), 'memory.max "max" shows the host memory, as Docker does');
  assert.deepEqual(unlimited.pids, { current: 1, limit: 100 });
  assert.deepEqual(unlimited.blkio, []);
  assert.deepEqual(unlimited.networks, {}, 'a process gone from /proc has no networks to show');
});

test('v2 cleanup removes the container cgroup, then the parent once it is empty, nothing else', async () => {
  const root = await copyOfFixture('cleanup');
  // The containers have ended: their processes are gone from the recorded cgroups.
  for (const c of [C1, C2]) await writeFile(join(root, c, 'cgroup.procs'), '');
  await removeContainerCgroups(C1, root, emulatedKernel);
  assert.equal(await exists(join(root, C1)), false);
  assert.equal(await exists(join(root, C2)), true, 'the other container keeps its cgroup');
  assert.equal(await exists(join(root, 'berth')), true, 'the parent stays while a container lives in it');

  await removeContainerCgroups(C2, root, emulatedKernel);
  assert.equal(await exists(join(root, 'berth')), false, 'the empty parent goes');
  await removeContainerCgroups(C2, root, emulatedKernel); // again: nothing left, no error
  const cgroups = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(cgroups.sort(), ['init.scope', 'system.slice']);
  assert.equal(await exists(join(root, 'system.slice', 'ssh.service')), true);
});

test('v2 cleanup leaves a cgroup that still has processes', async () => {
  const root = await copyOfFixture('busy');
  await removeContainerCgroups('/system.slice/ssh.service', root, emulatedKernel);
  assert.equal(await exists(join(root, 'system.slice', 'ssh.service')), true);
});

test('v2 placement: the parent is made and every controller of the root reaches it', async () => {
  const root = await copyOfFixture('placement');
  await rm(join(root, 'berth'), { recursive: true });
  await writeFile(join(root, 'cgroup.subtree_control'), 'cpu\n');
  const controllers = await enableV2Controllers(root, '/berth', emulatedKernel);
  assert.deepEqual([...controllers].sort(), [...(await v2Controllers(root))].sort());
  assert.deepEqual(words(await readFile(join(root, 'cgroup.subtree_control'), 'utf8')).sort(), [...(await v2Controllers(root))].sort());
  assert.deepEqual(words(await readFile(join(root, 'berth', 'cgroup.subtree_control'), 'utf8')).sort(), [...controllers].sort());
  // Again: nothing more to write.
  assert.deepEqual(await enableV2Controllers(root, '/berth', emulatedKernel), controllers);
  assert.ok(controllers.includes('memory') && controllers.includes('pids') && controllers.includes('cpu'));
});
