import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableCapabilities, capabilitiesInMask, DEFAULT_CAPABILITIES, effectiveCapabilities } from '../../src/runtime/capabilities.js';
import { buildOciSpec, type SpecInput } from '../../src/runtime/oci-spec.js';
import { clampRlimits, parseHardLimits } from '../../src/runtime/rlimits.js';

const input = (overrides: Partial<SpecInput> = {}): SpecInput => ({
  rootfs: '/var/lib/berth/rootfs',
  args: ['sh'],
  env: ['PATH=/bin'],
  cwd: '/',
  user: { uid: 0, gid: 0, additionalGids: [0] },
  hostname: 'abc',
  tty: false,
  mounts: [],
  capAdd: [],
  capDrop: [],
  readonlyRootfs: false,
  cgroupsPath: '/berth/abc',
  shmSize: 0,
  privileged: false,
  seccomp: undefined,
  ...overrides,
});

test("Docker's default capability set is CapEff 00000000a80425fb", () => {
  assert.deepEqual([...capabilitiesInMask('00000000a80425fb')].sort(), [...DEFAULT_CAPABILITIES].sort());
  const { capabilities } = buildOciSpec(input()).process;
  assert.deepEqual(capabilities.bounding, DEFAULT_CAPABILITIES);
  assert.deepEqual(capabilities.effective, DEFAULT_CAPABILITIES);
  assert.deepEqual(capabilities.permitted, DEFAULT_CAPABILITIES);
});

test('CapAdd and CapDrop accept names with or without CAP_, in any case', () => {
  const caps = effectiveCapabilities(['sys_admin'], ['CAP_NET_RAW', 'mknod']);
  assert.ok(caps.includes('CAP_SYS_ADMIN'));
  assert.ok(!caps.includes('CAP_NET_RAW') && !caps.includes('CAP_MKNOD'));
  assert.equal(caps.length, DEFAULT_CAPABILITIES.length - 1);
});

test('CapDrop ALL keeps only CapAdd; CapAdd ALL gives what the daemon has minus CapDrop', () => {
  assert.deepEqual(effectiveCapabilities(['NET_BIND_SERVICE'], ['ALL']), ['CAP_NET_BIND_SERVICE']);
  const available = ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_KILL'];
  assert.deepEqual(effectiveCapabilities(['ALL'], ['kill'], available), ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
  assert.ok(effectiveCapabilities(['all'], []).length >= availableCapabilities().length);
});

test('unknown and unavailable capabilities are invalid parameters', () => {
  assert.throws(() => effectiveCapabilities(['CAP_NOPE'], []), { kind: 'invalid-parameter', message: 'unknown capability: "CAP_NOPE"' });
  assert.throws(() => effectiveCapabilities(['SYS_RESOURCE'], [], ['CAP_CHOWN']), {
    kind: 'invalid-parameter',
    message: /not available in the current environment: "CAP_SYS_RESOURCE"/,
  });
});

test("masked and read-only paths, namespaces and device rules are moby's", () => {
  const { linux } = buildOciSpec(input());
  for (const path of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/interrupts', '/sys/firmware']) {
    assert.ok(linux.maskedPaths.includes(path), path);
  }
  assert.deepEqual(linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  assert.deepEqual(linux.namespaces.map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
  assert.deepEqual(linux.resources.devices[0], { allow: false, access: 'rwm' });
  assert.deepEqual(linux.resources.devices.at(-1), { allow: false, type: 'c', major: 10, minor: 200, access: 'rwm' });
  assert.equal(linux.cgroupsPath, '/berth/abc');
  assert.equal(linux.seccomp, undefined);
});

test('default mounts: /dev/shm sized from ShmSize (64 MiB by default), sysfs and cgroup read-only', () => {
  const shm = (spec: ReturnType<typeof buildOciSpec>) => spec.mounts.find((m) => m.destination === '/dev/shm')?.options;
  assert.ok(shm(buildOciSpec(input()))?.includes('size=67108864'));
  assert.ok(shm(buildOciSpec(input({ shmSize: 1024 })))?.includes('size=1024'));
  const mounts = buildOciSpec(input()).mounts;
  assert.deepEqual(
    mounts.map((m) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm'],
  );
  for (const dest of ['/sys', '/sys/fs/cgroup']) assert.ok(mounts.find((m) => m.destination === dest)?.options.includes('ro'));
});

test('user mounts come last and replace a default mount at the same place', () => {
  const hosts = { destination: '/etc/hosts', source: '/x/hosts', type: 'bind', options: ['rbind', 'rprivate'] };
  const shm = { destination: '/dev/shm', source: '/x/shm', type: 'bind', options: ['rbind'] };
  const { mounts } = buildOciSpec(input({ mounts: [hosts, shm] }));
  assert.deepEqual(mounts.slice(-2), [hosts, shm]);
  assert.equal(mounts.filter((m) => m.destination === '/dev/shm').length, 1);
});

test('the console size is set only with a tty', () => {
  const consoleSize = { height: 24, width: 80 };
  const withTty = buildOciSpec(input({ tty: true, consoleSize }));
  assert.equal(withTty.process.terminal, true);
  assert.deepEqual(withTty.process.consoleSize, consoleSize);
  assert.equal(buildOciSpec(input({ consoleSize })).process.consoleSize, undefined);
});

test('a read-only rootfs makes the root read-only', () => {
  const spec = buildOciSpec(input({ readonlyRootfs: true }));
  assert.equal(spec.root.readonly, true);
  assert.ok(!spec.mounts.find((m) => m.destination === '/dev/shm')?.options.includes('ro'));
});

// The runtime clamps them to the daemon's hard limits as it writes the bundle (tested on real
// containers in test/integration/runtime-containers.test.ts).
test('no rlimits by default; requested ones are passed on', () => {
  assert.equal(buildOciSpec(input()).process.rlimits, undefined);
  const rlimits = [
    { type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 10 },
  ];
  const spec = buildOciSpec(input({ rlimits }));
  assert.deepEqual(spec.process.rlimits, rlimits);
  assert.deepEqual(clampRlimits(rlimits, { RLIMIT_NOFILE: 20000 }), [
    { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 10 },
  ]);
  assert.equal(spec.process.noNewPrivileges, false);
});

test('hard limits are read from the /proc/PID/limits format', () => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max cpu time              unlimited            unlimited            seconds   ',
    'Max processes             96365                96365                processes ',
    'Max open files            1024                 20000                files     ',
    'Max nice priority         0                    0                    ',
  ].join('\n');
  assert.deepEqual(parseHardLimits(text), { RLIMIT_NPROC: 96365, RLIMIT_NOFILE: 20000, RLIMIT_NICE: 0 });
  assert.deepEqual(clampRlimits([{ type: 'RLIMIT_NPROC', soft: 1e6, hard: 1e6 }], { RLIMIT_NPROC: 96365 }), [
    { type: 'RLIMIT_NPROC', soft: 96365, hard: 96365 },
  ]);
  // -1 is unlimited (the runtime reads it as RLIM_INFINITY): clamped too; left as is without a ceiling.
  assert.deepEqual(clampRlimits([{ type: 'RLIMIT_NOFILE', soft: -1, hard: -1 }, { type: 'RLIMIT_CORE', soft: -1, hard: -1 }], { RLIMIT_NOFILE: 20000 }), [
    { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
    { type: 'RLIMIT_CORE', soft: -1, hard: -1 },
  ]);
});
