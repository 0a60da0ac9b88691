/** `docker exec`, `top`, `stats`, `pause` and `unpause` of the real docker CLI against berthd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { runOnPty } from '../helpers/pty.js';
import { DOCKER, docker as runDocker } from '../helpers/docker-cli.js';

describe('docker exec, top, stats and pause against berthd', { timeout: 180_000 }, () => {
  let daemon: TestDaemon;
  let work: string;
  let boxId: string;
  const docker = (args: string[], input?: string) => runDocker(daemon, args, input);
  before(async () => {
    daemon = await startDaemon();
    work = await mkdtemp(join(tmpdir(), 'berth-compat-exec-'));
    await daemon.berth(['image', 'busybox']);
    boxId = (await docker(['run', '-d', '--name', 'box', '--network', 'none', '-e', 'FROM_RUN=1', 'busybox', 'sleep', '1000'])).stdout.trim();
  });
  after(async () => {
    await daemon?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('docker exec: output on both streams, exit codes, 127 and 126', async () => {
    assert.deepEqual(await docker(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2']), { stdout: 'out\n', stderr: 'err\n', code: 0 });
    assert.equal((await docker(['exec', 'box', 'sh', '-c', 'exit 3'])).code, 3);
    const missing = await docker(['exec', 'box', 'nosuchcmd']);
    assert.equal(missing.code, 127);
    assert.match(missing.stdout, /exec: "nosuchcmd": executable file not found in \$PATH/);
    assert.equal((await docker(['exec', 'box', '/etc/passwd'])).code, 126);
  });

  test('docker exec -i, -u, -w, -e, --env-file', async () => {
    const envFile = join(work, 'env');
    await writeFile(envFile, 'FROM_FILE=2\n');
    assert.equal((await docker(['exec', '-i', 'box', 'cat'], 'through stdin\n')).stdout, 'through stdin\n');
    const given = await docker(['exec', '-u', 'nobody', '-w', '/tmp', '-e', 'EXTRA=x', '--env-file', envFile, 'box', 'sh', '-c', 'echo $FROM_RUN $EXTRA $FROM_FILE $(pwd) $(id -un)']);
    assert.deepEqual(given, { stdout: '1 x 2 /tmp nobody\n', stderr: '', code: 0 });
  });

  test('docker exec -it on a terminal: a TTY of the terminal\'s size', async () => {
    const { output, code } = await runOnPty(`stty rows 40 cols 120; ${DOCKER} exec -it box sh -c 'stty size; [ -t 0 ] && echo interactive'`, daemon.env);
    assert.equal(code, 0, output);
    assert.match(output, /40 120\r+\ninteractive\r+\n/);
    const typed = await runOnPty(`${DOCKER} exec -it box sh`, daemon.env, ['echo typed-$((6*7))\r', 'exit 9\r']);
    assert.equal(typed.code, 9, typed.output);
    assert.match(typed.output, /typed-42/);
  });

  test('docker exec -d: runs on after the CLI has left', async () => {
    assert.deepEqual(await docker(['exec', '-d', 'box', 'sh', '-c', 'sleep 0.3; touch /tmp/from-detached']), { stdout: '', stderr: '', code: 0 });
    await sleep(600);
    assert.equal((await docker(['exec', 'box', 'ls', '/tmp/from-detached'])).code, 0);
  });

  test('docker top and docker stats read what berth reads', async () => {
    for (const args of [[], ['-o', 'pid,args'], ['aux']]) {
      const viaDocker = await docker(['top', 'box', ...args]);
      assert.equal(viaDocker.code, 0, viaDocker.stderr);
      assert.match(viaDocker.stdout, /sleep 1000\n$/);
      const viaBerth = await daemon.berth(['top', 'box', ...args]);
      // Same rows; only the figures ps samples (CPU, times) may move between the two calls.
      assert.equal(viaDocker.stdout.split('\n').length, viaBerth.stdout.split('\n').length);
      assert.equal(viaDocker.stdout.split('\n')[0], viaBerth.stdout.split('\n')[0]);
    }
    const noPid = await docker(['top', 'box', '-o', 'args']);
    assert.deepEqual(noPid, { stdout: '', stderr: "Error response from daemon: Couldn't find PID field in ps output\n", code: 1 });
    const stats = await docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.NetIO}}', 'box']);
    assert.deepEqual(stats, { stdout: 'box 1 0B / 0B\n', stderr: '', code: 0 });
    const table = await docker(['stats', '--no-stream', 'box']);
    assert.match(table.stdout, /^CONTAINER ID   NAME      CPU %     MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS\n[0-9a-f]{12}   box       \d+\.\d\d%/);
  });

  test('docker pause/unpause, and exec in a paused or stopped container gets Docker\'s 409', async () => {
    assert.deepEqual(await docker(['pause', 'box']), { stdout: 'box\n', stderr: '', code: 0 });
    assert.match((await docker(['ps', '--format', '{{.Status}}', '-f', 'name=box'])).stdout, /\(Paused\)/);
    assert.deepEqual(await docker(['exec', 'box', 'true']), {
      stdout: '',
      stderr: 'Error response from daemon: Container box is paused, unpause the container before exec\n',
      code: 1,
    });
    const twice = await docker(['pause', 'box']);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /is already paused/);
    assert.deepEqual(await docker(['unpause', 'box']), { stdout: 'box\n', stderr: '', code: 0 });
    const notPaused = await docker(['unpause', 'box']);
    assert.equal(notPaused.code, 1);
    assert.match(notPaused.stderr, /is not paused/);
    const stoppedId = (await docker(['run', '-d', '--network', 'none', 'busybox', 'true'])).stdout.trim();
    await docker(['wait', stoppedId]);
    assert.deepEqual(await docker(['exec', stoppedId, 'true']), {
      stdout: '',
      stderr: `Error response from daemon: container ${stoppedId} is not running\n`,
      code: 1,
    });
    assert.equal(boxId.length, 64);
  });
});
