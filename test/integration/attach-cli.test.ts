import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BERTH, useBusyboxDaemon, type TestDaemon } from '../helpers/berthd.js';
import { runOnPty } from '../helpers/pty.js';
import { until } from '../helpers/raw-attach.js';

describe('berth attach and start -a -i', { timeout: 240_000 }, () => {
  let daemon: TestDaemon;
  useBusyboxDaemon((d) => (daemon = d));

  const running = async (name: string) => JSON.parse((await daemon.berth(['inspect', name])).stdout)[0].State.Running as boolean;

  /** `berth attach` as a child process that gets a signal once the container has said `ready`. */
  async function attachAndSignal(args: string[], name: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
    const child = spawn(process.execPath, [BERTH, 'attach', ...args, name], { env: daemon.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    await until(() => output.includes('tick'), 'output through the attach');
    child.kill('SIGINT');
    return { ...(await exited), output };
  }

  const TRAPPER = ['sh', '-c', 'trap "echo got-int; exit 7" INT; while true; do echo tick; sleep 0.2; done'];

  test('attach forwards signals to the container (--sig-proxy, the default)', async () => {
    await daemon.berth(['run', '-d', '--name', 'trap1', 'busybox', ...TRAPPER]);
    const result = await attachAndSignal([], 'trap1');
    assert.equal(result.code, 7, result.output);
    assert.match(result.output, /got-int/);
    await daemon.berth(['rm', 'trap1']);
  });

  test('attach --sig-proxy=false: the signal ends the CLI, the container runs on', async () => {
    await daemon.berth(['run', '-d', '--name', 'trap2', 'busybox', ...TRAPPER]);
    const result = await attachAndSignal(['--sig-proxy=false'], 'trap2');
    assert.equal(result.signal, 'SIGINT', result.output);
    assert.doesNotMatch(result.output, /got-int/);
    assert.equal(await running('trap2'), true);
    await daemon.berth(['rm', '-f', 'trap2']);
  });

  test('attach --no-stdin sends nothing to the container; without it stdin goes through', async () => {
    await daemon.berth(['run', '-d', '-i', '--name', 'cat1', 'busybox', 'sh', '-c', '(while true; do echo tick; sleep 0.2; done) & cat']);
    const attach = (args: string[], typed: string) => {
      const child = spawn(process.execPath, [BERTH, 'attach', ...args, 'cat1'], { env: daemon.env, stdio: ['pipe', 'pipe', 'pipe'] });
      const seen = { output: '' };
      child.stdout.on('data', (d) => (seen.output += d));
      child.stdin.write(typed); // waits in the pipe until the CLI reads it
      return { child, seen };
    };
    const quiet = attach(['--no-stdin'], 'from no-stdin\n');
    await until(() => quiet.seen.output.includes('tick'), 'the --no-stdin attach receiving output');
    const loud = attach([], 'from loud\n');
    await until(() => quiet.seen.output.includes('from loud'), 'stdin of a plain attach reaching the container');
    assert.doesNotMatch(quiet.seen.output, /from no-stdin/);
    quiet.child.kill('SIGKILL');
    loud.child.kill('SIGKILL');
    assert.equal(await running('cat1'), true);
    await daemon.berth(['rm', '-f', 'cat1']);
  });

  test('start -a -i feeds stdin and exits with the container\'s code', async () => {
    await daemon.berth(['create', '-i', '--name', 'cat2', 'busybox', 'sh', '-c', 'cat; exit 3']);
    const result = await daemon.berth(['start', '-a', '-i', 'cat2'], { input: 'through start\n', allowFailure: true });
    assert.equal(result.stdout, 'through start\n');
    assert.equal(result.code, 3);
    await daemon.berth(['rm', 'cat2']);
  });

  test('attach --detach-keys detaches on the given keys ("read escape sequence", 1, as the docker CLI); the container runs on', async () => {
    await daemon.berth(['run', '-dit', '--name', 'tty1', 'busybox', 'sh']);
    const result = await runOnPty(`${process.execPath} ${BERTH} attach --detach-keys ctrl-x,y tty1`, daemon.env, ['echo typed-$((40+2))\r', '\x18y'], 1500);
    assert.equal(result.code, 1, 'as the docker CLI: a detached attach ends with 1');
    assert.match(result.output, /typed-42[\s\S]*read escape sequence/);
    assert.equal(await running('tty1'), true);
    await daemon.berth(['rm', '-f', 'tty1']);
  });

  test('start -a -i --detach-keys on a TTY container', async () => {
    await daemon.berth(['create', '-it', '--name', 'tty2', 'busybox', 'sh']);
    const result = await runOnPty(`${process.execPath} ${BERTH} start -a -i --detach-keys ctrl-x,y tty2`, daemon.env, ['echo started-$((40+2))\r', '\x18y'], 1500);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /started-42/);
    assert.equal(await running('tty2'), true);
    await daemon.berth(['rm', '-f', 'tty2']);
  });
});
