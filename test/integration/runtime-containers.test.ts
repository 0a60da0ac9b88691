import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../src/common/errors.js';
import { CGROUP_ROOT } from '../../src/runtime/cgroups.js';
import {
  collectOutput,
  existingCgroupDirs,
  processesMentioning,
  RuntimeHarness,
  RUNTIMES,
  type TestContainer,
} from './runtime-harness.js';

const run = promisify(execFile);

let harness: RuntimeHarness;
before(async () => {
  harness = await RuntimeHarness.open();
});
after(() => harness.close());

const exists = (path: string) => access(path).then(
  () => true,
  () => false,
);

/** What a container may leave on the host once deleted and its exit acknowledged: nothing. */
async function leftovers(c: TestContainer): Promise<string[]> {
  const found: string[] = [];
  const paths = [
    join(harness.execRoot, 'containers', c.id),
    join(harness.execRoot, 'persist', c.id),
    join(harness.execRoot, 'exits', c.id),
    join(harness.execRoot, 'runtime', c.runtime.name, c.id),
  ];
  for (const path of paths) if (await exists(path)) found.push(path);
  found.push(...(await existingCgroupDirs(c.cgroupsPath)).map((h) => `cgroup ${h}${c.cgroupsPath}`));
  found.push(...(await processesMentioning(c.id)).map((pid) => `process ${pid}`));
  if (await c.runtime.state(c.id)) found.push('runtime state');
  return found;
}

async function conmonPid(c: TestContainer): Promise<number> {
  return Number(await readFile(join(harness.execRoot, 'containers', c.id, 'conmon.pid'), 'utf8'));
}

for (const runtimeName of RUNTIMES) {
  describe(`conmon + ${runtimeName}`, { timeout: 180_000 }, () => {
    test('echo hi: output over the attach socket, exit 0 from the exit file', async (t) => {
      const result = await harness.run(t, runtimeName, { args: ['echo', 'hi'] });
      assert.deepEqual(result, { stdout: 'hi\n', stderr: '', code: 0 });
    });

    test('the exit status of the process is recorded, with the time the process ended', async (t) => {
      const container = await harness.create(t, runtimeName, { args: ['sh', '-c', 'echo oops >&2; exit 3'] });
      const output = collectOutput(await container.runtime.attach(container.id));
      await container.runtime.start(container.id);
      const exit = await container.exited;
      assert.deepEqual(await output, { stdout: '', stderr: 'oops\n' });
      assert.equal(exit.code, 3);
      assert.equal(exit.oomKilled, false);
      const pending = await harness.runtimes.pendingExit(container.id);
      const file = await stat(join(harness.execRoot, 'exits', container.id));
      assert.equal(exit.finishedAt.getTime(), file.mtime.getTime(), 'the exit file time, not the time it was read');
      assert.deepEqual(pending, exit);
      await harness.runtimes.acknowledgeExit(container.id);
      assert.equal(await harness.runtimes.pendingExit(container.id), undefined);
    });

    test('an ended run keeps its stopped state until delete, which leaves nothing; conmon runs no delete of its own', async (t) => {
      const container = await harness.create(t, runtimeName, { args: ['true'] });
      // With a PID namespace of its own, crun's state is deleted by berthd and runc's by runc from
      // berthd: conmon's own delete raced runc's start (crun-delete.ts).
      const conmonArgs = await readFile(`/proc/${await conmonPid(container)}/cmdline`, 'utf8');
      assert.ok(!conmonArgs.includes('--exit-command'), conmonArgs);
      await container.runtime.start(container.id);
      assert.equal((await container.exited).code, 0);
      for (let waited = 0; (await processesMentioning(container.id)).length > 0; waited += 5) {
        assert.ok(waited < 5000, 'conmon is still there 5 s after the exit');
        await sleep(5);
      }
      assert.equal((await container.runtime.state(container.id))?.status, 'stopped');
      await container.runtime.delete(container.id, { force: true });
      assert.equal(await exists(join(harness.execRoot, 'runtime', runtimeName, container.id)), false);
      assert.deepEqual(await existingCgroupDirs(container.cgroupsPath), []);
      await harness.runtimes.acknowledgeExit(container.id);
      assert.deepEqual(await leftovers(container), []);
    });

    test('a missing command fails create with 127 and leaves nothing behind', async (t) => {
      const err = await harness.create(t, runtimeName, { args: ['nosuchcmd'] }).then(
        () => assert.fail('create succeeded'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof BerthError);
      assert.equal(err.kind, 'invalid-parameter');
      assert.equal(err.exitCode, 127);
      assert.match(err.message, /^failed to create task for container: OCI runtime create failed: exec: "nosuchcmd": executable file not found in \$PATH$/);
      const runtime = harness.runtimes.get(runtimeName);
      assert.deepEqual(await runtime.list(), []);
      const containerDirs = await readdir(join(harness.execRoot, 'containers'));
      for (const id of containerDirs) {
        assert.deepEqual(await readdir(join(harness.execRoot, 'containers', id)), ['config.json']);
        assert.deepEqual(await processesMentioning(id), []);
        assert.deepEqual(await existingCgroupDirs(`/berth-test/${id}`), []);
        assert.equal(await runtime.state(id), undefined);
      }
    });

    test('a command that is not executable fails with 126', async (t) => {
      const err = await harness.create(t, runtimeName, { args: ['/etc/passwd'] }).then(
        () => assert.fail('create succeeded'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof BerthError);
      assert.equal(err.exitCode, 126);
      assert.match(err.message, /permission denied/);
    });

    test('stdin reaches the process through the attach socket; closing it ends cat', async (t) => {
      const container = await harness.create(t, runtimeName, { args: ['cat'], stdin: true });
      const connection = await container.runtime.attach(container.id);
      const output = collectOutput(connection);
      await container.runtime.start(container.id);
      connection.stdin.write(Buffer.from('hello\n'));
      const big = Buffer.alloc(70000, 'x'); // more than two stdin messages
      connection.stdin.end(big);
      assert.equal((await container.exited).code, 0);
      assert.equal((await output).stdout, `hello\n${big.toString()}`);
    });

    test('a tty gets the console size (24x80)', async (t) => {
      const container = await harness.create(t, runtimeName, {
        args: ['stty', 'size'],
        tty: true,
        consoleSize: { height: 24, width: 80 },
      });
      await container.runtime.resize(container.id, 24, 80);
      const output = collectOutput(await container.runtime.attach(container.id));
      await container.runtime.start(container.id);
      assert.equal((await container.exited).code, 0);
      assert.equal((await output).stdout, '24 80\r\n');
    });

    test('back-to-back resizes are all applied, the last one wins', async (t) => {
      const container = await harness.create(t, runtimeName, { args: ['sh', '-c', 'sleep 0.3; stty size'], tty: true });
      const output = collectOutput(await container.runtime.attach(container.id));
      await container.runtime.start(container.id);
      await Promise.all([container.runtime.resize(container.id, 30, 80), container.runtime.resize(container.id, 50, 120)]);
      assert.equal((await container.exited).code, 0);
      assert.equal((await output).stdout, '50 120\r\n');
    });

    test("the process is isolated with Docker's defaults", async (t) => {
      const script = [
        'hostname',
        'echo pid=$$',
        'grep -E "^(CapEff|Seccomp):" /proc/self/status',
        // This host's kernel has no /proc/kcore; the other masked files exist and must read empty.
        'echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c)',
        'echo masked=$(cat /proc/keys /proc/timer_list /proc/interrupts | wc -c)',
        'ls /sys/firmware | wc -l',
      ].join('; ');
      const result = await harness.run(t, runtimeName, { args: ['sh', '-c', script], hostname: 'berth-box' });
      assert.deepEqual([result.code, result.stderr], [0, '']);
      const lines = result.stdout.split('\n');
      assert.equal(lines[0], 'berth-box');
      assert.equal(lines[1], 'pid=1');
      assert.match(lines[2], /^CapEff:\s+00000000a80425fb$/);
      assert.match(lines[3], /^Seccomp:\s+2$/);
      assert.equal(lines[4], 'kcore=0');
      assert.equal(lines[5], 'masked=0');
      assert.equal(lines[6], '0');
    });

    test('rlimits above the daemon hard limit are clamped to it', async (t) => {
      const limits = await readFile('/proc/self/limits', 'utf8');
      const hardNofile = Number(/^Max open files\s+\d+\s+(\d+)/m.exec(limits)![1]);
      const result = await harness.run(t, runtimeName, {
        args: ['sh', '-c', 'ulimit -Hn; ulimit -Sn'],
        rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }],
      });
      assert.deepEqual(result, { stdout: `${hardNofile}\n${hardNofile}\n`, stderr: '', code: 0 });
    });

    test('create, state, list, kill: SIGKILL ends the container with 137', async (t) => {
      const container = await harness.create(t, runtimeName, { args: ['sleep', '100'] });
      const { runtime, id } = container;
      assert.deepEqual(await runtime.state(id), { status: 'created', pid: container.pid });
      await runtime.start(id);
      assert.deepEqual(await runtime.state(id), { status: 'running', pid: container.pid });
      await assert.rejects(runtime.start(id), (err: unknown) => err instanceof BerthError && err.kind === 'conflict');
      assert.deepEqual(await runtime.list(), [{ id, state: { status: 'running', pid: container.pid } }]);
      await runtime.kill(id, 9);
      assert.equal((await container.exited).code, 137);
      // A run that ended is stopped until its delete.
      assert.equal((await runtime.state(id))?.status, 'stopped');
      const wrongState = (err: unknown) => err instanceof BerthError && err.kind === 'conflict';
      await assert.rejects(runtime.kill(id, 15), wrongState);
      await assert.rejects(runtime.start(id), wrongState);
      await assert.rejects(runtime.pause(id), wrongState);
      await runtime.delete(id, { force: false });
      // The exit outlives the run's teardown until the engine says it saved it.
      assert.equal((await harness.runtimes.pendingExit(id))?.code, 137);
      await harness.runtimes.acknowledgeExit(id);
      assert.deepEqual(await leftovers(container), []);
      assert.equal(await runtime.state(id), undefined);
      await assert.rejects(runtime.kill(id, 9), (err: unknown) => err instanceof BerthError && err.kind === 'not-found');
      await runtime.delete(id, { force: true }); // again: nothing to do, no error
    });

    test('delete of a created container that never started leaves nothing', async (t) => {
      const container = await harness.create(t, runtimeName, { args: ['sleep', '100'] });
      assert.ok((await processesMentioning(container.id)).length > 0, 'conmon runs');
      assert.ok((await existingCgroupDirs(container.cgroupsPath)).length > 0, 'the cgroups exist');
      await container.runtime.delete(container.id, { force: true });
      await harness.runtimes.acknowledgeExit(container.id);
      assert.deepEqual(await leftovers(container), []);
    });

    test('delete of a running container whose conmon was killed leaves nothing', async (t) => {
      const container = await harness.create(t, runtimeName, { args: ['sleep', '100'] });
      await container.runtime.start(container.id);
      process.kill(await conmonPid(container), 'SIGKILL');
      await sleep(50);
      assert.equal((await container.runtime.state(container.id))?.status, 'running', 'the container runs on');
      await container.runtime.delete(container.id, { force: true });
      assert.deepEqual(await leftovers(container), []);
    });

    test('delete refuses a running container without force', async (t) => {
      const container = await harness.create(t, runtimeName, { args: ['sleep', '100'] });
      await container.runtime.start(container.id);
      await assert.rejects(container.runtime.delete(container.id, { force: false }), (err: unknown) => err instanceof BerthError);
      assert.equal((await container.runtime.state(container.id))?.status, 'running');
    });
  });
}


test('sweep deletes, in the runtime that holds it, every container nobody knows, and only those', { timeout: 120_000 }, async (t) => {
  const created = await harness.create(t, 'crun', { args: ['sleep', '100'] });
  const orphaned = await harness.create(t, 'runc', { args: ['sleep', '100'] });
  await orphaned.runtime.start(orphaned.id);
  process.kill(await conmonPid(orphaned), 'SIGKILL');
  const known = await harness.create(t, 'runc', { args: ['sleep', '100'] });
  await known.runtime.start(known.id);
  // What a crash in the middle of a removal leaves: files and a cgroup, no runtime state.
  const halfRemoved = await harness.create(t, 'crun', { args: ['sleep', '100'] });
  // Its conmon goes first: it would run its own `crun delete` as the container dies, racing this one.
  process.kill(await conmonPid(halfRemoved), 'SIGKILL');
  await run('crun', ['--root', join(harness.execRoot, 'runtime', 'crun'), 'delete', '--force', halfRemoved.id]);
  await mkdir(join(CGROUP_ROOT, 'memory', halfRemoved.cgroupsPath), { recursive: true });

  const swept = await harness.runtimes.sweep((id) => id === known.id);
  assert.deepEqual(swept.sort(), [created.id, orphaned.id, halfRemoved.id].sort());
  for (const container of [created, orphaned, halfRemoved]) assert.deepEqual(await leftovers(container), [], container.id);
  assert.equal((await known.runtime.state(known.id))?.status, 'running');
  assert.deepEqual(await harness.runtimes.sweep((id) => id === known.id), []);
});
