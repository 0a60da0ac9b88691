import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError } from '../../src/common/errors.js';
import { connectAttach, resizeTty } from '../../src/runtime/conmon.js';
import { containerState, killContainer, startContainer } from '../../src/runtime/runtime.js';
import { collectOutput, RuntimeHarness, RUNTIMES } from './runtime-harness.js';

const run = promisify(execFile);

async function processesMentioning(text: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const matches = await Promise.all(
    pids.map(async (pid) => ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(text) ? Number(pid) : 0)),
  );
  return matches.filter((pid) => pid !== 0);
}

async function existingCgroupDirs(cgroupsPath: string): Promise<string[]> {
  const hierarchies = await readdir('/sys/fs/cgroup');
  const found = await Promise.all(
    hierarchies.map((h) =>
      readdir(join('/sys/fs/cgroup', h, cgroupsPath)).then(
        () => h,
        () => '',
      ),
    ),
  );
  return found.filter((h) => h !== '');
}

let harness: RuntimeHarness;
before(async () => {
  harness = await RuntimeHarness.open();
});
after(() => harness.close());

for (const runtimeName of RUNTIMES) {
  describe(`conmon + ${runtimeName}`, { timeout: 180_000 }, () => {
    test('echo hi: output over the attach socket, exit 0 from the exit file', async (t) => {
      const result = await harness.run(t, runtimeName, { args: ['echo', 'hi'] });
      assert.deepEqual(result, { stdout: 'hi\n', stderr: '', code: 0 });
    });

    test('the exit status of the process is recorded', async (t) => {
      const result = await harness.run(t, runtimeName, { args: ['sh', '-c', 'echo oops >&2; exit 3'] });
      assert.deepEqual(result, { stdout: '', stderr: 'oops\n', code: 3 });
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
      const runtime = harness.runtime(runtimeName);
      const { stdout } = await run(runtime.path, ['--root', runtime.root, 'list', '-q']);
      assert.equal(stdout.trim(), '');
      const containerDirs = await readdir(join(harness.execRoot, 'containers'));
      for (const id of containerDirs) {
        assert.deepEqual(await readdir(join(harness.execRoot, 'containers', id)), ['config.json']);
        assert.deepEqual(await processesMentioning(id), []);
        assert.deepEqual(await existingCgroupDirs(`/berth-test/${id}`), []);
        assert.equal(await containerState(runtime, id), undefined);
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
      const connection = await connectAttach(container.bundleDir);
      const output = collectOutput(connection);
      await startContainer(container.runtime, container.id);
      connection.write(Buffer.from('hello\n'));
      const big = Buffer.alloc(70000, 'x'); // more than two stdin messages
      connection.write(big);
      connection.closeStdin();
      assert.equal(await container.exited, 0);
      assert.equal((await output).stdout, `hello\n${big.toString()}`);
    });

    test('a tty gets the console size (24x80)', async (t) => {
      const container = await harness.create(t, runtimeName, {
        args: ['stty', 'size'],
        tty: true,
        consoleSize: { height: 24, width: 80 },
      });
      await resizeTty(container.bundleDir, 24, 80);
      const output = collectOutput(await connectAttach(container.bundleDir));
      await startContainer(container.runtime, container.id);
      assert.equal(await container.exited, 0);
      assert.equal((await output).stdout, '24 80\r\n');
    });

    test('back-to-back resizes are all applied, the last one wins', async (t) => {
      const container = await harness.create(t, runtimeName, { args: ['sh', '-c', 'sleep 0.3; stty size'], tty: true });
      const output = collectOutput(await connectAttach(container.bundleDir));
      await startContainer(container.runtime, container.id);
      await Promise.all([resizeTty(container.bundleDir, 30, 80), resizeTty(container.bundleDir, 50, 120)]);
      assert.equal(await container.exited, 0);
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

    test('SIGKILL ends the container with 137', async (t) => {
      const container = await harness.create(t, runtimeName, { args: ['sleep', '100'] });
      await startContainer(container.runtime, container.id);
      assert.equal((await containerState(container.runtime, container.id))?.status, 'running');
      await killContainer(container.runtime, container.id, 'SIGKILL');
      assert.equal(await container.exited, 137);
    });
  });
}
