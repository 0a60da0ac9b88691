/**
 * `docker run` security and device options, each checked by its effect inside a real container:
 * --privileged, --security-opt, --device (with permissions), --device-cgroup-rule, --sysctl,
 * --group-add, --init; on crun and runc.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestDaemon, useBusyboxDaemon } from '../helpers/berthd.js';

for (const runtime of ['crun', 'runc']) {
  describe(`security options on ${runtime}`, { timeout: 240_000 }, () => {
    let daemon: TestDaemon;
    useBusyboxDaemon((d) => (daemon = d), { defaultRuntime: runtime });
    const run = async (args: string[], command: string) =>
      (await daemon.berth(['run', '--rm', '--network', 'none', ...args, 'busybox', 'sh', '-c', command], { allowFailure: true })).stdout +
      '';
    const runBoth = (args: string[], command: string) =>
      daemon.berth(['run', '--rm', '--network', 'none', ...args, 'busybox', 'sh', '-c', `{ ${command}; } 2>&1`], { allowFailure: true });

    test('--privileged: every capability berthd holds, no seccomp, no masked paths, host devices, writable /sys', async () => {
      const out = await run(['--privileged'], 'grep -E "^(CapEff|Seccomp):" /proc/self/status; wc -c < /proc/timer_list; ls /dev/net/tun; grep " /sys " /proc/mounts');
      const daemonCaps = /^CapEff:\s*([0-9a-f]+)$/m.exec(await (await import('node:fs/promises')).readFile(`/proc/${daemon.process.pid}/status`, 'utf8'))![1];
      assert.match(out, new RegExp(`^CapEff:\\s+${daemonCaps}$`, 'm'));
      assert.match(out, /^Seccomp:\s+0$/m);
      assert.doesNotMatch(out, /^0$/m, '/proc/timer_list is not masked');
      assert.match(out, /^\/dev\/net\/tun$/m);
      assert.match(out, / \/sys sysfs rw,/);
      const plain = await run([], 'ls /dev/net/tun 2>&1; grep " /sys " /proc/mounts');
      assert.match(plain, /No such file or directory/);
      assert.match(plain, / \/sys sysfs ro,/);
    });

    test('--security-opt no-new-privileges, seccomp=unconfined, seccomp=<file>, label=disable', async () => {
      assert.match(await run(['--security-opt', 'no-new-privileges'], 'grep NoNewPrivs /proc/self/status'), /NoNewPrivs:\s+1/);
      assert.match(await run([], 'grep NoNewPrivs /proc/self/status'), /NoNewPrivs:\s+0/);
      assert.match(await run(['--security-opt', 'seccomp=unconfined'], 'grep Seccomp: /proc/self/status'), /Seccomp:\s+0/);
      assert.match(await run(['--security-opt', 'label=disable'], 'grep Seccomp: /proc/self/status'), /Seccomp:\s+2/);
      const dir = await mkdtemp(join(tmpdir(), 'berth-seccomp-'));
      try {
        const profile = join(dir, 'profile.json');
        await writeFile(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }, null, 2));
        const denied = await runBoth(['--security-opt', `seccomp=${profile}`], 'mkdir /tmp/x; touch /tmp/y && echo touched');
        assert.match(denied.stdout, /mkdir: can't create directory '\/tmp\/x': Operation not permitted/);
        assert.match(denied.stdout, /touched/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('--device with its permissions, and --device-cgroup-rule, as the device cgroup enforces them', async () => {
      // /dev/loop0 (block 7:0) is in neither runtime's default device rules.
      const readOnly = await runBoth(['--device', '/dev/loop0:/dev/l0:r'], 'ls -l /dev/l0; cat /dev/l0 && echo read; echo x > /dev/l0');
      assert.match(readOnly.stdout, /^b.* 7, *0 .*\/dev\/l0$/m);
      assert.match(readOnly.stdout, /^read$/m);
      assert.match(readOnly.stdout, /can't create \/dev\/l0: Operation not permitted/);
      const writeOnly = await runBoth(['--device', '/dev/loop0:/dev/l0:w'], 'cat /dev/l0');
      assert.match(writeOnly.stdout, /can't open '\/dev\/l0': Operation not permitted/);
      const denied = await runBoth([], 'mknod /tmp/loop b 7 0; cat /tmp/loop && echo read');
      assert.match(denied.stdout, /can't open '\/tmp\/loop': Operation not permitted/);
      const ruled = await runBoth(['--device-cgroup-rule', 'b 7:0 r'], 'mknod /tmp/loop b 7 0; cat /tmp/loop && echo read');
      assert.match(ruled.stdout, /^read$/m);
    });

    test('--sysctl, --group-add and --init', async () => {
      const out = await run(
        ['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=123456', '--group-add', '1234', '--group-add', 'nogroup', '--init'],
        'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; grep Groups /proc/self/status; tr "\\0" " " < /proc/1/cmdline',
      );
      const [forward, shmmax, groups, init] = out.split('\n');
      assert.equal(forward, '1');
      assert.equal(shmmax, '123456');
      assert.match(groups!, /^Groups:\s+0 1234 65534\s*$/);
      assert.match(init!, /^\/sbin\/docker-init -- sh -c /);
      await daemon.berth(['create', '--name', 'shown', '--privileged', '--init', '--security-opt', 'no-new-privileges', '--device', '/dev/net/tun', '--group-add', 'nogroup', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox']);
      const { HostConfig } = JSON.parse((await daemon.berth(['inspect', 'shown'])).stdout)[0];
      assert.equal(HostConfig.Privileged, true);
      assert.equal(HostConfig.Init, true);
      assert.deepEqual(HostConfig.SecurityOpt, ['no-new-privileges']);
      assert.deepEqual(HostConfig.Devices, [{ PathOnHost: '/dev/net/tun', PathInContainer: '/dev/net/tun', CgroupPermissions: 'rwm' }]);
      assert.deepEqual(HostConfig.GroupAdd, ['nogroup']);
      assert.deepEqual(HostConfig.Sysctls, { 'net.ipv4.ip_forward': '1' });
      await daemon.berth(['rm', 'shown']);
    });

    test("bad values get Docker's messages and create nothing", async () => {
      const before = (await daemon.berth(['ps', '-aq'])).stdout;
      const cases: Array<[string[], RegExp]> = [
        [['--device', '/dev/nope'], /error gathering device information while adding custom device "\/dev\/nope": no such file or directory/],
        [['--device', '/dev/null:/dev/x:rwx'], /invalid device mode: rwx/],
        [['--device-cgroup-rule', 'x 1:2 r'], /invalid device cgroup format 'x 1:2 r'/],
        [['--sysctl', 'kernel.panic=1'], /sysctl 'kernel.panic=1' is not allowed/],
        [['--security-opt', 'foo=bar'], /invalid --security-opt 2: "foo=bar"/],
        [['--security-opt', 'apparmor=myprofile'], /AppArmor profiles are not supported/],
        [['--cap-add', 'CAP_NOPE'], /unknown capability: "CAP_NOPE"/],
        [['--group-add', 'nosuchgroup'], /Unable to find group nosuchgroup: no matching entries in group file/],
      ];
      for (const [flags, message] of cases) {
        const result = await daemon.berth(['run', '--rm', '--network', 'none', ...flags, 'busybox', 'true'], { allowFailure: true });
        assert.equal(result.code, 125, flags.join(' '));
        assert.match(result.stderr, message, flags.join(' '));
      }
      assert.equal((await daemon.berth(['ps', '-aq'])).stdout, before);
    });
  });
}
