/**
 * `docker update` / `berth update` on real containers: the new limits reach a running
 * container's cgroups (crun and runc), a stopped container keeps them for its next start, inspect
 * shows them, and Docker's refusals (409 for AutoRemove's restart policy, the swap rule) change nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { type TestDaemon, useBusyboxDaemon } from '../helpers/berthd.js';
import { rawRequest } from '../helpers/http.js';

const MiB = 1024 * 1024;

for (const runtime of ['crun', 'runc']) {
  describe(`update on ${runtime}`, { timeout: 180_000 }, () => {
    let daemon: TestDaemon;
    useBusyboxDaemon((d) => (daemon = d), { defaultRuntime: runtime });
    const hostConfig = async (name: string) => JSON.parse((await daemon.berth(['inspect', name])).stdout)[0].HostConfig;
    const cgroupFile = async (name: string, controller: string, file: string) => {
      const id = (await daemon.berth(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
      return (await readFile(`/sys/fs/cgroup/${controller}${daemon.cgroupParent}/${id}/${file}`, 'utf8')).trim();
    };

    test('a running container gets its new limits; the names are printed as docker does', async () => {
      // runc's init is a Go program whose runtime may start threads while it waits to be started, and
      // each thread counts against pids.max: a limit as low as 5 now and then kills it before start.
      await daemon.berth(['run', '-d', '--name', 'busy', '--network', 'none', '-m', '64m', '--pids-limit', '32', 'busybox', 'sleep', '300']);
      const result = await daemon.berth(['update', '-m', '96m', '--memory-swap', '192m', '--cpus', '0.5', '-c', '300', '--cpuset-cpus', '0', '--pids-limit', '9', '--restart', 'on-failure:3', 'busy']);
      assert.equal(result.stdout, 'busy\n');
      assert.equal(await cgroupFile('busy', 'memory', 'memory.limit_in_bytes'), String(96 * MiB));
      assert.equal(await cgroupFile('busy', 'memory', 'memory.memsw.limit_in_bytes'), String(192 * MiB));
      assert.equal(await cgroupFile('busy', 'cpu', 'cpu.cfs_quota_us'), '50000');
      assert.equal(await cgroupFile('busy', 'cpu', 'cpu.shares'), '300');
      assert.equal(await cgroupFile('busy', 'cpuset', 'cpuset.cpus'), '0');
      assert.equal(await cgroupFile('busy', 'pids', 'pids.max'), '9');
      const host = await hostConfig('busy');
      assert.equal(host.Memory, 96 * MiB);
      assert.equal(host.MemorySwap, 192 * MiB);
      assert.equal(host.NanoCpus, 5e8);
      assert.equal(host.PidsLimit, 9);
      assert.deepEqual(host.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
      // -1 lifts the pids limit.
      await daemon.berth(['update', '--pids-limit', '-1', 'busy']);
      assert.equal(await cgroupFile('busy', 'pids', 'pids.max'), 'max');
      const warned = await daemon.berth(['update', '--blkio-weight', '300', 'busy']);
      assert.equal(warned.stdout, 'busy\nYour kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.\n');
      const events = await daemon.berth(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'event=update', '--format', '{{.Actor.Attributes.name}}']);
      assert.equal(events.stdout.trim().split('\n').length, 3);
      await daemon.berth(['rm', '-f', 'busy']);
    });

    test('a stopped container keeps the update for its next start', async () => {
      await daemon.berth(['create', '--name', 'later', '--network', 'none', 'busybox', 'cat', '/sys/fs/cgroup/pids/pids.max']);
      await daemon.berth(['update', '--pids-limit', '11', 'later']);
      assert.equal((await daemon.berth(['start', '-a', 'later'])).stdout, '11\n');
    });

    test("Docker's refusals: 409 for AutoRemove's restart policy, the memory-swap rule, bad values; nothing changes", async () => {
      await daemon.berth(['run', '-d', '--rm', '--name', 'auto', '--network', 'none', '-m', '64m', 'busybox', 'sleep', '300']);
      const response = await rawRequest(daemon.socket, 'POST', '/v1.50/containers/auto/update', JSON.stringify({ RestartPolicy: { Name: 'always' } }));
      assert.equal(response.status, 409);
      assert.match(response.body, /Cannot update container [0-9a-f]{64}: Restart policy cannot be updated because AutoRemove is enabled for the container/);
      const swap = await daemon.berth(['update', '-m', '256m', 'auto'], { allowFailure: true });
      assert.equal(swap.code, 1);
      assert.match(swap.stderr, /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
      const bad = await daemon.berth(['update', '--cpus', '-1', 'auto'], { allowFailure: true });
      assert.match(bad.stderr, /Range of CPUs is from 0\.01/);
      const host = await hostConfig('auto');
      assert.equal(host.Memory, 64 * MiB);
      assert.deepEqual(host.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
      const none = await daemon.berth(['update', 'auto'], { allowFailure: true });
      assert.match(none.stderr, /^you must provide one or more flags when using this command$/m);
      const missing = await daemon.berth(['update', '-m', '64m', 'nosuch'], { allowFailure: true });
      assert.match(missing.stderr, /No such container: nosuch/);
      await daemon.berth(['rm', '-f', 'auto']);
    });
  });
}
