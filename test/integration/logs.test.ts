import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTH, useBusyboxDaemon, type TestDaemon } from '../helpers/berthd.js';
import { demux, rawAttach, until } from '../helpers/raw-attach.js';

const execFileAsync = promisify(execFile);

/** Prints line-1 … line-N, pausing every 20 lines so that rotations land between reads. */
const counter = (n: number, pauseS = '0.05') => ['sh', '-c', `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); echo line-$i; [ $((i%20)) = 0 ] && sleep ${pauseS}; done; true`];
const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line-${from + i}`);

describe('logs: drivers, rotation, details, until, restarts', { timeout: 300_000 }, () => {
  let daemon: TestDaemon;
  useBusyboxDaemon((d) => (daemon = d));

  const inspect = async (name: string) => JSON.parse((await daemon.berth(['inspect', name])).stdout)[0];
  const logFiles = async (id: string) => (await readdir(join(daemon.dataRoot, 'containers', id))).filter((f) => f.startsWith('ctr.log')).sort();
  const lines = (text: string) => text.split('\n').filter(Boolean);

  test('--log-driver none: nothing kept, logs and attach replay refused as dockerd does, output still attached', async () => {
    const run = await daemon.berth(['run', '--log-driver', 'none', '--name', 'quiet', 'busybox', 'echo', 'live only']);
    assert.equal(run.stdout, 'live only\n');
    const container = await inspect('quiet');
    assert.deepEqual(container.HostConfig.LogConfig, { Type: 'none', Config: {} });
    assert.deepEqual(await logFiles(container.Id), []);
    const logs = await daemon.berth(['logs', 'quiet'], { allowFailure: true });
    assert.equal(logs.code, 1);
    assert.equal(logs.stderr, 'Error response from daemon: configured logging driver does not support reading\n');
    const docker = await execFileAsync('docker', ['logs', 'quiet'], { env: daemon.env }).catch((err) => err);
    assert.equal(docker.stderr, 'Error response from daemon: configured logging driver does not support reading\n');
    const replay = rawAttach(daemon.socket, '/containers/quiet/attach?logs=1&stdout=1', { upgrade: true });
    assert.deepEqual(demux(await replay.body), [[1, 'Error attaching: configured logging driver does not support reading\n']]);
    const opts = await daemon.berth(['run', '--log-driver', 'none', '--log-opt', 'max-size=1m', 'busybox', 'true'], { allowFailure: true });
    assert.equal(opts.code, 125);
    assert.match(opts.stderr, /invalid logging opts for driver none/);
    await daemon.berth(['rm', 'quiet']);
  });

  test('--log-driver local and json-file options show in inspect; bad options are Docker\'s 400s', async () => {
    await daemon.berth(['run', '--log-driver', 'local', '--name', 'loc', 'busybox', 'echo', 'kept']);
    assert.deepEqual((await inspect('loc')).HostConfig.LogConfig, { Type: 'local', Config: {} });
    assert.equal((await daemon.berth(['logs', 'loc'])).stdout, 'kept\n');
    await daemon.berth(['create', '--name', 'opts', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=2', 'busybox', 'true']);
    assert.deepEqual((await inspect('opts')).HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '2' } });
    for (const [args, message] of [
      [['--log-opt', 'max-size=1q'], /invalid suffix: 'q'/],
      [['--log-opt', 'mode=non-blocking'], /unknown log opt 'mode' for json-file log driver/],
      [['--log-driver', 'local', '--log-opt', 'labels=a'], /unknown log opt 'labels' for log driver local/],
      [['--log-driver', 'syslog'], /log driver "syslog" \(--log-driver\) is not supported yet/],
      [['--log-driver', 'nosuch'], /logger: no log driver named 'nosuch' is registered/],
    ] as const) {
      const result = await daemon.berth(['create', ...args, 'busybox', 'true'], { allowFailure: true });
      assert.match(result.stderr, message);
    }
    await daemon.berth(['rm', 'loc', 'opts']);
  });

  test('max-size/max-file: rotated while logging; logs reads across the files with no gap or repeat; a follower sees every line once', async () => {
    // The container writes once /go exists, so that the follower is surely following by then.
    const script = `echo ready; while [ ! -e /go ]; do sleep 0.05; done; ${counter(600)[2]}`;
    await daemon.berth(['run', '-d', '--name', 'rot', '--log-opt', 'max-size=4k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', script]);
    const { Id, GraphDriver } = await inspect('rot');
    const follower = spawn(process.execPath, [BERTH, 'logs', '-f', 'rot'], { env: daemon.env });
    let followed = '';
    follower.stdout.on('data', (d) => (followed += d));
    const followerDone = new Promise((r) => follower.once('exit', r));
    await until(() => followed.startsWith('ready\n'), 'the follower');
    await writeFile(join(GraphDriver.Data.MergedDir, 'go'), '');
    assert.equal((await daemon.berth(['wait', 'rot'])).stdout, '0\n');
    await followerDone;
    assert.deepEqual(lines(followed), ['ready', ...numbered(1, 600)], 'the follower saw every line once, in order');
    const files = await logFiles(Id);
    assert.deepEqual(files, ['ctr.log', 'ctr.log.1', 'ctr.log.2'], 'max-file 3: the live file and two rotated ones');
    for (const file of files.slice(1)) assert.ok((await stat(join(daemon.dataRoot, 'containers', Id, file))).size >= 4000, `${file} was rotated at max-size`);
    const kept = lines((await daemon.berth(['logs', 'rot'])).stdout);
    assert.notEqual(kept[0], 'ready');
    const first = Number(kept[0].slice('line-'.length));
    assert.ok(first > 1, 'the oldest lines went with the oldest file');
    assert.deepEqual(kept, numbered(first, 600), 'what is kept is contiguous, through the last line');
    assert.deepEqual(lines((await daemon.berth(['logs', '--tail', '3', 'rot'])).stdout), numbered(598, 600));
    await daemon.berth(['rm', 'rot']);
  });

  test('max-file 1: the log is cut at max-size and logs shows what the live file holds', async () => {
    await daemon.berth(['run', '--name', 'one', '--log-opt', 'max-size=2k', 'busybox', ...counter(300)]);
    const { Id } = await inspect('one');
    assert.deepEqual(await logFiles(Id), ['ctr.log']);
    const kept = lines((await daemon.berth(['logs', 'one'])).stdout);
    assert.ok(kept.length < 300);
    assert.deepEqual(kept, numbered(301 - kept.length, 300));
    await daemon.berth(['rm', 'one']);
  });

  test('logs --details: the attributes json-file keeps (labels, env), Docker\'s format', async () => {
    await daemon.berth([
      'run', '--name', 'det', '-l', 'app=web shop', '-l', 'tier=front', '-e', 'REGION=eu',
      '--log-opt', 'labels=app,tier', '--log-opt', 'env=REGION', 'busybox', 'echo', 'hello',
    ]); // prettier-ignore
    assert.equal((await daemon.berth(['logs', '--details', 'det'])).stdout, 'REGION=eu,app=web+shop,tier=front hello\n');
    const stamped = (await daemon.berth(['logs', '--details', '-t', 'det'])).stdout;
    assert.match(stamped, /^\d{4}-\d\d-\d\dT[\d:.]+Z REGION=eu,app=web\+shop,tier=front hello\n$/);
    const docker = await execFileAsync('docker', ['logs', '--details', 'det'], { env: daemon.env });
    assert.equal(docker.stdout, 'REGION=eu,app=web+shop,tier=front hello\n');
    await daemon.berth(['run', '--name', 'plain', 'busybox', 'echo', 'hello']);
    assert.equal((await daemon.berth(['logs', '--details', 'plain'])).stdout, ' hello\n', 'no attributes: only the space');
    await daemon.berth(['rm', 'det', 'plain']);
  });

  test('logs --until, also with --follow (which stops once until has passed)', async () => {
    await daemon.berth(['run', '-d', '--name', 'upto', 'busybox', 'sh', '-c', 'echo early; sleep 1.5; echo late; sleep 30']);
    await until(async () => (await daemon.berth(['logs', 'upto'])).stdout === 'early\n', 'the first line');
    const boundary = (Date.now() / 1000).toFixed(3);
    await until(async () => (await daemon.berth(['logs', 'upto'])).stdout === 'early\nlate\n', 'the second line');
    assert.equal((await daemon.berth(['logs', '--until', boundary, 'upto'])).stdout, 'early\n');
    const started = Date.now();
    const soon = ((Date.now() + 1000) / 1000).toFixed(3);
    assert.equal((await daemon.berth(['logs', '-f', '--until', soon, 'upto'])).stdout, 'early\nlate\n');
    assert.ok(Date.now() - started < 10_000, 'follow ended at until, not with the container');
    await daemon.berth(['rm', '-f', 'upto']);
  });

  test('logs --follow ends when the run ends, even when a restart policy starts the next one (as moby closes the logger)', async () => {
    await daemon.berth(['run', '-d', '--name', 'again', '--restart', 'always', 'busybox', 'sh', '-c', 'echo run; sleep 1.5; exit 3']);
    await until(async () => (await daemon.berth(['logs', 'again'])).stdout.startsWith('run\n'), 'the first run');
    const started = Date.now();
    const followed = await execFileAsync(process.execPath, [BERTH, 'logs', '-f', 'again'], { env: daemon.env, timeout: 20_000 });
    assert.ok(Date.now() - started < 15_000, 'follow ended with the run');
    assert.match(followed.stdout, /^(run\n)+$/);
    await daemon.berth(['rm', '-f', 'again']);
  });

  test('logs survive a restart of the container and of the daemon; rotation resumes after the daemon restarts', async () => {
    await daemon.berth(['run', '-d', '--name', 'long', '--log-opt', 'max-size=3k', '--log-opt', 'max-file=20', 'busybox', 'sh', '-c',
      'i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.02; done']); // prettier-ignore
    const { Id } = await inspect('long');
    await until(async () => (await logFiles(Id)).length >= 2, 'a first rotation');
    await daemon.restart();
    const before = (await logFiles(Id)).length;
    await until(async () => (await logFiles(Id)).length > before, 'a rotation by the restarted daemon', 20_000);
    const ticks = lines((await daemon.berth(['logs', 'long'])).stdout).filter((l) => l.startsWith('tick-'));
    const last = Number(ticks.at(-1)!.slice(5));
    assert.deepEqual(ticks, Array.from({ length: last }, (_, i) => `tick-${i + 1}`), 'nothing lost or repeated across the daemon restart');
    await daemon.berth(['rm', '-f', 'long']);
    await daemon.berth(['run', '--name', 'twice', 'busybox', 'echo', 'run']);
    await daemon.berth(['start', '-a', 'twice']);
    await daemon.restart();
    assert.equal((await daemon.berth(['logs', 'twice'])).stdout, 'run\nrun\n');
    await daemon.berth(['rm', 'twice']);
  });
});
