/** Security options, device rules and sysctls as moby parses and checks them; device numbers from st_rdev. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSysctls, deviceCgroupRule, mappedDevices, parseSecurityOpts } from '../../src/engine/containers/security-settings.js';
import { splitDeviceNumber } from '../../src/runtime/host-devices.js';
import { deviceMapping, nanoCpus, ramInBytes, restartPolicy, sysctl, ulimit } from '../../src/cli/run-option-values.js';

test('security options: no-new-privileges, seccomp, label=disable, systempaths; the rest refused', () => {
  assert.deepEqual(parseSecurityOpts([]), { noNewPrivileges: false, seccomp: { kind: 'default' }, unmaskedPaths: false });
  const parsed = parseSecurityOpts(['no-new-privileges', 'seccomp=unconfined', 'label=disable', 'apparmor=unconfined', 'systempaths=unconfined']);
  assert.deepEqual(parsed, { noNewPrivileges: true, seccomp: { kind: 'unconfined' }, unmaskedPaths: true });
  assert.equal(parseSecurityOpts(['no-new-privileges=false']).noNewPrivileges, false);
  assert.equal(parseSecurityOpts(['no-new-privileges:true']).noNewPrivileges, true);
  assert.deepEqual(parseSecurityOpts(['seccomp=builtin']).seccomp, { kind: 'default' });
  assert.deepEqual(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']).seccomp, { kind: 'profile', json: '{"defaultAction":"SCMP_ACT_ALLOW"}' });
  assert.throws(() => parseSecurityOpts(['seccomp={nope']), /Decoding seccomp profile failed/);
  assert.throws(() => parseSecurityOpts(['bogus']), /invalid --security-opt 1: "bogus"/);
  assert.throws(() => parseSecurityOpts(['foo=bar']), /invalid --security-opt 2: "foo=bar"/);
  assert.throws(() => parseSecurityOpts(['no-new-privileges=maybe']), /invalid --security-opt 2/);
  assert.throws(() => parseSecurityOpts(['label=user:USER']), /SELinux labels are not supported/);
});

test('device cgroup rules', () => {
  assert.deepEqual(deviceCgroupRule('c 1:3 rwm'), { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
  assert.deepEqual(deviceCgroupRule('b 7:* r'), { allow: true, type: 'b', major: 7, access: 'r' });
  assert.deepEqual(deviceCgroupRule('a *:* m'), { allow: true, access: 'm' });
  assert.throws(() => deviceCgroupRule('x 1:2 r'), /invalid device cgroup rule format: 'x 1:2 r'/);
  assert.throws(() => deviceCgroupRule('c 1:2 rx'), /invalid device cgroup rule format/);
});

test("sysctls: Docker's namespaced ones, none of a namespace shared with the host", () => {
  const own = { ipc: false, network: false, uts: false };
  assert.doesNotThrow(() => checkSysctls({ 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '10' }, own));
  assert.throws(() => checkSysctls({ 'kernel.panic': '1' }, own), /sysctl 'kernel.panic' is not allowed/);
  assert.throws(() => checkSysctls({ 'kernel.sem': '1' }, { ...own, ipc: true }), /not allowed in host IPC namespace/);
  assert.throws(() => checkSysctls({ 'net.core.somaxconn': '1' }, { ...own, network: true }), /not allowed in host network namespace/);
});

test('a --device that is a regular file is not a device node (moby), not a scandir error', async () => {
  await assert.rejects(mappedDevices({ PathOnHost: '/etc/passwd', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }), {
    kind: 'invalid-parameter',
    message: 'error gathering device information while adding custom device "/etc/passwd": not a device node',
  });
});

test('a --device given by a symbolic link is the device it points to (moby resolves it)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-device-link-'));
  try {
    await symlink('/dev/null', join(dir, 'null-link'));
    const { devices, rules } = await mappedDevices({ PathOnHost: join(dir, 'null-link'), PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' });
    assert.deepEqual(devices.map(({ path, type, major, minor }) => ({ path, type, major, minor })), [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3 }]);
    assert.deepEqual(rules, [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('device numbers from st_rdev, small and large', () => {
  assert.deepEqual(splitDeviceNumber(BigInt((1 << 8) | 3)), { major: 1, minor: 3 });
  assert.deepEqual(splitDeviceNumber(BigInt((10 << 8) | 200)), { major: 10, minor: 200 });
  // major 259, minor 300 (glibc's makedev layout).
  const rdev = ((259n & 0xfffn) << 8n) | (300n & 0xffn) | ((300n & ~0xffn) << 12n);
  assert.deepEqual(splitDeviceNumber(rdev), { major: 259, minor: 300 });
});

test("CLI values parse as the docker CLI's", () => {
  assert.equal(ramInBytes('64m'), 64 * 1024 * 1024);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('10KiB'), 10240);
  assert.throws(() => ramInBytes('1q'), /invalid suffix: 'q'/);
  assert.throws(() => ramInBytes('m'), /invalid size: 'm'/);
  assert.equal(nanoCpus('1.5'), 1.5e9);
  assert.equal(nanoCpus('0.000000001'), 1);
  assert.equal(nanoCpus('-1'), -1e9);
  assert.throws(() => nanoCpus('abc'), /failed to parse abc as a rational number/);
  assert.throws(() => nanoCpus('0.0000000001'), /value is too precise/);
  assert.deepEqual(ulimit('nofile=10:20'), [{ Name: 'nofile', Soft: 10, Hard: 20 }]);
  assert.deepEqual(ulimit('nofile=30', ulimit('nofile=10:20')), [{ Name: 'nofile', Soft: 30, Hard: 30 }]);
  assert.throws(() => ulimit('nofile'), /invalid ulimit argument: nofile/);
  assert.throws(() => ulimit('bogus=1'), /invalid ulimit type: bogus/);
  assert.throws(() => ulimit('nofile=20:10'), /ulimit soft limit must be less than or equal to hard limit: 20 > 10/);
  assert.deepEqual(deviceMapping('/dev/x'), [{ PathOnHost: '/dev/x', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }]);
  assert.deepEqual(deviceMapping('/dev/x:r'), [{ PathOnHost: '/dev/x', PathInContainer: '/dev/x', CgroupPermissions: 'r' }]);
  assert.deepEqual(deviceMapping('/dev/x:/dev/y:rw'), [{ PathOnHost: '/dev/x', PathInContainer: '/dev/y', CgroupPermissions: 'rw' }]);
  assert.throws(() => deviceMapping('/dev/x:/dev/y:rwx'), /invalid device mode: rwx/);
  assert.deepEqual(sysctl('net.ipv4.ip_forward=1'), { 'net.ipv4.ip_forward': '1' });
  assert.throws(() => sysctl('kernel.panic=1'), /sysctl 'kernel.panic=1' is not allowed/);
  assert.deepEqual(restartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.throws(() => restartPolicy(':3'), /no policy provided before colon/);
  assert.throws(() => restartPolicy('on-failure:x'), /maximum retry count must be an integer/);
});
