/** exec, pause/resume, update and stats of ConmonRuntime on real containers (crun and runc). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../src/common/errors.js';
import type { ExecRequest } from '../../src/runtime/container-runtime.js';
import { CGROUP_ROOT } from '../../src/runtime/cgroups.js';
import { collectOutput, processesMentioning, RuntimeHarness, RUNTIMES, withTimeout, type TestContainer } from './runtime-harness.js';

let harness: RuntimeHarness;
before(async () => {
  harness = await RuntimeHarness.open();
});
after(() => harness.close());

let execCount = 0;
function execRequest(args: string[], more: Partial<ExecRequest> = {}): ExecRequest {
  return {
    execId: `exec${++execCount}${'0'.repeat(20)}`,
    args,
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello'],
    cwd: '/tmp',
    user: { uid: 0, gid: 0, additionalGids: [] },
    tty: false,
    stdin: false,
    privileged: false,
    ...more,
  };
}

async function running(t: Parameters<typeof harness.create>[0], runtimeName: string, args = ['sleep', '100']): Promise<TestContainer> {
  const container = await harness.create(t, runtimeName, { args });
  await container.runtime.start(container.id);
  return container;
}

const gone = (path: string) => access(path).then(
  () => false,
  () => true,
);

for (const runtimeName of RUNTIMES) {
  describe(`ConmonRuntime operations on ${runtimeName}`, { timeout: 180_000 }, () => {
    test('exec: output, environment, working dir and exit status; its files go when it ends', async (t) => {
      const { runtime, id } = await running(t, runtimeName);
      const request = execRequest(['sh', '-c', 'echo $GREETING in $(pwd); echo err >&2; exit 42']);
      const exec = await runtime.exec(id, request);
      assert.ok(exec.pid > 0);
      const [output, code] = await Promise.all([collectOutput(exec.attach), withTimeout(exec.exited, 'the exec')]);
      assert.deepEqual(output, { stdout: 'hello in /tmp\n', stderr: 'err\n' });
      assert.equal(code, 42);
      assert.ok(await gone(join(harness.execRoot, 'exec', id, request.execId)));
      assert.deepEqual(await processesMentioning(request.execId), []);
    });

    test('exec with stdin: cat reads what is written until stdin ends', async (t) => {
      const { runtime, id } = await running(t, runtimeName);
      const exec = await runtime.exec(id, execRequest(['cat'], { stdin: true }));
      const output = collectOutput(exec.attach);
      exec.attach.stdin.end('piped input\n');
      assert.equal(await withTimeout(exec.exited, 'the exec'), 0);
      assert.equal((await output).stdout, 'piped input\n');
    });

    test('exec with a tty sees a terminal of the asked size', async (t) => {
      const { runtime, id } = await running(t, runtimeName);
      const exec = await runtime.exec(id, execRequest(['sh', '-c', 'sleep 0.2; stty size; [ -t 0 ] && echo tty'], { tty: true, stdin: true }));
      await exec.resize(30, 100);
      const output = collectOutput(exec.attach);
      assert.equal(await withTimeout(exec.exited, 'the exec'), 0);
      assert.equal((await output).stdout, '30 100\r\ntty\r\n');
    });

    test('exec of a missing command fails with 127 and leaves nothing', async (t) => {
      const { runtime, id } = await running(t, runtimeName);
      const request = execRequest(['nosuchcmd']);
      const err = await runtime.exec(id, request).then(
        () => assert.fail('exec succeeded'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof BerthError);
      assert.equal(err.exitCode, 127);
      assert.match(err.message, /^OCI runtime exec failed: .*exec: "nosuchcmd": executable file not found in \$PATH$/);
      assert.ok(await gone(join(harness.execRoot, 'exec', id, request.execId)));
      assert.equal((await runtime.state(id))?.status, 'running', 'the container is not harmed');
    });

    test('pause freezes the container (state paused, no CPU time) and resume thaws it', async (t) => {
      const { runtime, id } = await running(t, runtimeName, ['sh', '-c', 'while :; do :; done']);
      await runtime.pause(id);
      assert.equal((await runtime.state(id))?.status, 'paused');
      const before = (await runtime.stats(id)).cpu.totalNs;
      await sleep(200);
      assert.equal((await runtime.stats(id)).cpu.totalNs, before, 'a frozen container uses no CPU');
      await runtime.resume(id);
      assert.equal((await runtime.state(id))?.status, 'running');
      await sleep(200);
      assert.ok((await runtime.stats(id)).cpu.totalNs > before, 'it runs again');
    });

    test('update changes the memory limit in the cgroup', async (t) => {
      const container = await running(t, runtimeName);
      const limitFile = join(CGROUP_ROOT, 'memory', container.cgroupsPath, 'memory.limit_in_bytes');
      await container.runtime.update(container.id, { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 50 } });
      assert.equal(Number(await readFile(limitFile, 'utf8')), 64 * 1024 * 1024);
      assert.equal((await readFile(join(CGROUP_ROOT, 'pids', container.cgroupsPath, 'pids.max'), 'utf8')).trim(), '50');
      const stats = await container.runtime.stats(container.id);
      assert.equal(stats.memory.limit, 64 * 1024 * 1024);
      assert.equal(stats.pids.limit, 50);
    });

    test('stats: memory in use, processes, CPU time, and no loopback among the networks', async (t) => {
      const container = await running(t, runtimeName, ['sh', '-c', 'sleep 100 & wait']);
      await sleep(50);
      const stats = await container.runtime.stats(container.id);
      assert.ok(stats.memory.usage > 0, `memory usage ${stats.memory.usage}`);
      assert.ok(stats.memory.limit > 0);
      assert.ok(Object.keys(stats.memory.stats).length > 5, 'memory.stat figures');
      assert.equal(stats.pids.current, 2);
      assert.ok(stats.cpu.totalNs > 0);
      assert.ok(stats.cpu.systemUsageNs > stats.cpu.totalNs);
      assert.ok(stats.cpu.onlineCpus >= 1);
      assert.deepEqual(stats.networks, {}, 'only loopback in its network namespace');
      await container.runtime.kill(container.id, 9);
      await container.exited;
      await assert.rejects(container.runtime.stats(container.id), (err: unknown) => err instanceof BerthError && err.kind === 'conflict');
    });
  });
}
