/**
 * `docker run` namespace options (--pid, --ipc, --uts, --userns, --cgroupns, --cgroup-parent) and
 * --platform / --pull, checked by their effect inside real containers on crun and runc.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { type TestDaemon, useBusyboxDaemon } from '../helpers/berthd.js';

const nsOf = (pid: number | 'self', kind: string) => readlink(`/proc/${pid}/ns/${kind}`);

for (const runtime of ['crun', 'runc']) {
  describe(`namespace options on ${runtime}`, { timeout: 240_000 }, () => {
    let daemon: TestDaemon;
    useBusyboxDaemon((d) => (daemon = d), { defaultRuntime: runtime });
    const lines = async (args: string[], command: string) =>
      (await daemon.berth(['run', '--rm', '--network', 'none', ...args, 'busybox', 'sh', '-c', command])).stdout.trim().split('\n');
    const namespaces = 'for n in pid ipc uts cgroup; do ls -l /proc/self/ns/$n | sed "s/.*-> //"; done';

    test('by default every namespace is the container\'s own; cgroupns is the host\'s (cgroup v1)', async () => {
      const [pid, ipc, uts, cgroup] = await lines([], namespaces);
      assert.notEqual(pid, await nsOf('self', 'pid'));
      assert.notEqual(ipc, await nsOf('self', 'ipc'));
      assert.notEqual(uts, await nsOf('self', 'uts'));
      assert.equal(cgroup, await nsOf('self', 'cgroup'));
    });

    test('--pid host, --ipc host, --uts host, --userns host share the host\'s namespaces and names', async () => {
      const [pid, ipc, uts, , name, shm] = await lines(['--pid', 'host', '--ipc', 'host', '--uts', 'host', '--userns', 'host'], `${namespaces}; hostname; grep " /dev/shm " /proc/mounts | cut -d" " -f3`);
      assert.equal(pid, await nsOf('self', 'pid'));
      assert.equal(ipc, await nsOf('self', 'ipc'));
      assert.equal(uts, await nsOf('self', 'uts'));
      assert.equal(name, hostname());
      assert.equal(shm, 'tmpfs');
    });

    test('--ipc none has no /dev/shm; --ipc private and shareable their own', async () => {
      const [none] = await lines(['--ipc', 'none'], 'grep -c " /dev/shm " /proc/mounts || true');
      assert.equal(none, '0');
      for (const mode of ['private', 'shareable']) {
        const [ipc, shm] = await lines(['--ipc', mode], 'ls -l /proc/self/ns/ipc | sed "s/.*-> //"; grep -c " /dev/shm " /proc/mounts');
        assert.notEqual(ipc, await nsOf('self', 'ipc'));
        assert.equal(shm, '1');
      }
    });

    test('--pid container:<name> joins that container\'s PID namespace', async () => {
      await daemon.berth(['run', '-d', '--name', 'donor', '--network', 'none', 'busybox', 'sleep', '300']);
      const donorPid = Number((await daemon.berth(['inspect', '-f', '{{.State.Pid}}', 'donor'])).stdout);
      const [pid, first] = await lines(['--pid', 'container:donor'], 'ls -l /proc/self/ns/pid | sed "s/.*-> //"; cat /proc/1/cmdline | tr "\\0" " "');
      assert.equal(pid, await nsOf(donorPid, 'pid'));
      assert.equal(first!.trim(), 'sleep 300');
      const { HostConfig } = JSON.parse((await daemon.berth(['inspect', 'donor'])).stdout)[0];
      assert.equal(HostConfig.IpcMode, 'private');
      await daemon.berth(['rm', '-f', 'donor']);
      const gone = await daemon.berth(['run', '--rm', '--network', 'none', '--pid', 'container:donor', 'busybox', 'true'], { allowFailure: true });
      assert.match(gone.stderr, /No such container: donor/);
    });

    test('--cgroupns private gives the container its own cgroup root; --cgroup-parent places its cgroup', async () => {
      const [cgroup, memory] = await lines(['--cgroupns', 'private'], 'ls -l /proc/self/ns/cgroup | sed "s/.*-> //"; grep ":memory:" /proc/self/cgroup');
      assert.notEqual(cgroup, await nsOf('self', 'cgroup'));
      assert.match(memory!, /^\d+:memory:\/$/, 'the container sees its own cgroup as the root');
      const parent = `${daemon.cgroupParent}/custom`;
      await daemon.berth(['run', '-d', '--name', 'placed', '--network', 'none', '--cgroup-parent', parent, 'busybox', 'sleep', '300']);
      const id = (await daemon.berth(['inspect', '-f', '{{.Id}} {{.HostConfig.CgroupParent}} {{.HostConfig.CgroupnsMode}}', 'placed'])).stdout.trim().split(' ');
      assert.deepEqual(id.slice(1), [parent, 'host']);
      const own = await readlink(`/proc/${(await daemon.berth(['inspect', '-f', '{{.State.Pid}}', 'placed'])).stdout.trim()}/ns/cgroup`);
      assert.equal(own, await nsOf('self', 'cgroup'));
      const procs = await readFile(`/sys/fs/cgroup/memory${parent}/${id[0]}/cgroup.procs`, 'utf8');
      assert.notEqual(procs.trim(), '');
      await daemon.berth(['rm', '-f', 'placed']);
      await assert.rejects(readFile(`/sys/fs/cgroup/memory${parent}/${id[0]}/cgroup.procs`), { code: 'ENOENT' });
    });

    test("--platform linux/amd64 only, --pull missing|never, always pulls (no registry here); bad modes get Docker's messages", async () => {
      assert.equal((await daemon.berth(['run', '--rm', '--network', 'none', '--platform', 'linux/amd64', '--pull', 'missing', 'busybox', 'true'])).code, 0);
      const cases: Array<[string[], RegExp]> = [
        [['--platform', 'linux/arm64'], /platform "linux\/arm64" is not supported by berthd: it runs linux\/amd64 containers only/],
        [['--pull', 'always'], /registry-1\.docker\.io/],
        [['--pull', 'sometimes'], /invalid pull option: 'sometimes': must be one of "always", "missing" or "never"/],
        [['--pid', 'guest'], /invalid PID mode: guest/],
        [['--ipc', 'public'], /invalid IPC mode: public/],
        [['--ipc', 'container:x'], /--ipc container:<name> \(HostConfig\.IpcMode\) is not supported yet/],
        [['--uts', 'private'], /invalid UTS mode: private/],
        [['--uts', 'host', '--hostname', 'foo'], /conflicting options: hostname and the UTS mode/],
        [['--userns', 'remap'], /invalid USER mode: remap/],
        [['--cgroupns', 'shared'], /invalid cgroup namespace mode: shared/],
      ];
      for (const [flags, message] of cases) {
        const result = await daemon.berth(['run', '--rm', '--network', 'none', ...flags, 'busybox', 'true'], { allowFailure: true });
        assert.equal(result.code, 125, flags.join(' '));
        assert.match(result.stderr, message, flags.join(' '));
      }
      const never = await daemon.berth(['run', '--rm', '--pull', 'never', 'nosuchimage', 'true'], { allowFailure: true });
      assert.match(never.stderr, /No such image: nosuchimage:latest/);
      assert.doesNotMatch(never.stderr, /Unable to find image/);
    });
  });
}
