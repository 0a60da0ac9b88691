import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useBusyboxDaemon, type TestDaemon } from '../helpers/berthd.js';
import { runOnPty } from '../helpers/pty.js';
import { DOCKER, docker as runDocker } from '../helpers/docker-cli.js';

describe('the docker CLI: attach, start -a -i, log drivers and options', { timeout: 180_000 }, () => {
  let daemon: TestDaemon;
  useBusyboxDaemon((d) => (daemon = d));

  const docker = (args: string[], input?: string) => runDocker(daemon, args, input);
  const running = async (name: string) => (await docker(['inspect', '-f', '{{.State.Running}}', name])).stdout.trim() === 'true';

  test('docker attach on a TTY: typing reaches the shell, Ctrl-P Ctrl-Q detaches, the container runs on', async () => {
    assert.equal((await docker(['run', '-dit', '--name', 'sh1', 'busybox', 'sh'])).code, 0);
    // The docker CLI's attach ends a detach with "read escape sequence" and status 1 (run ends it with 0).
    const result = await runOnPty(`${DOCKER} attach sh1`, daemon.env, ['echo attached-$((40+2))\r', '\x10\x11'], 1500);
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /attached-42[\s\S]*read escape sequence/);
    assert.equal(await running('sh1'), true);
    const custom = await runOnPty(`${DOCKER} attach --detach-keys ctrl-x,y sh1`, daemon.env, ['\x18y'], 1500);
    assert.match(custom.output, /read escape sequence/);
    assert.equal(await running('sh1'), true);
    await docker(['rm', '-f', 'sh1']);
  });

  test('docker start -a -i on a TTY detaches on the keys; docker attach refuses a stopped container', async () => {
    await docker(['create', '-it', '--name', 'sh2', 'busybox', 'sh']);
    const result = await runOnPty(`${DOCKER} start -a -i sh2`, daemon.env, ['echo started-$((40+2))\r', '\x10\x11'], 1500);
    assert.match(result.output, /started-42/);
    assert.equal(await running('sh2'), true);
    await docker(['kill', 'sh2']);
    const stopped = await docker(['attach', 'sh2']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /attach to a stopped container, start it first/);
    await docker(['rm', 'sh2']);
  });

  test('docker start -a -i feeds stdin and returns the exit code', async () => {
    await docker(['create', '-i', '--name', 'cat1', 'busybox', 'sh', '-c', 'cat; exit 4']);
    const result = await docker(['start', '-a', '-i', 'cat1'], 'from docker start\n');
    assert.equal(result.stdout, 'from docker start\n');
    assert.equal(result.code, 4);
    await docker(['rm', 'cat1']);
  });

  test('docker run --log-driver/--log-opt, inspect, logs --details and a driver that keeps nothing', async () => {
    const run = await docker(['run', '--name', 'opts', '-l', 'app=web', '--log-opt', 'labels=app', '--log-opt', 'max-size=1m', 'busybox', 'echo', 'hi']);
    assert.equal(run.stdout, 'hi\n', run.stderr);
    assert.equal((await docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'opts'])).stdout, '{"Type":"json-file","Config":{"labels":"app","max-size":"1m"}}\n');
    assert.equal((await docker(['logs', '--details', 'opts'])).stdout, 'app=web hi\n');
    const bad = await docker(['run', '--log-opt', 'max-file=0', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /max-file cannot be less than 1/);
    await docker(['run', '--name', 'none1', '--log-driver', 'none', 'busybox', 'true']);
    const logs = await docker(['logs', 'none1']);
    assert.equal(logs.code, 1);
    assert.match(logs.stderr, /configured logging driver does not support reading/);
    await docker(['rm', 'opts', 'none1']);
  });
});
