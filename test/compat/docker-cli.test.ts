import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { DOCKER, docker } from '../helpers/docker-cli.js';
import { runOnPty } from '../helpers/pty.js';
import { packBusyboxRootfs } from '../../src/bootstrap/busybox-rootfs.js';

describe('the docker CLI against berthd', { timeout: 180_000 }, () => {
  let daemon: TestDaemon;
  let work: string;
  before(async () => {
    daemon = await startDaemon();
    work = await mkdtemp(join(tmpdir(), 'berth-compat-'));
    const tar = join(work, 'rootfs.tar');
    await pipeline(packBusyboxRootfs(), createWriteStream(tar));
    const imported = await docker(daemon, ['import', '-c', 'CMD ["sh"]', '-c', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', tar, 'busybox:latest']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^sha256:[0-9a-f]{64}\n$/);
  });
  after(async () => {
    await daemon?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('version and info handshake', async () => {
    const version = await docker(daemon, ['version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /API version:\s+1\.50/);
    const info = await docker(daemon, ['info']);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /Storage Driver: overlay/);
  });

  test('docker images and image inspect', async () => {
    const images = await docker(daemon, ['images']);
    assert.match(images.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[0-9a-f]{12}\s+.+ago\s+\d/);
    const [inspect] = JSON.parse((await docker(daemon, ['image', 'inspect', 'busybox'])).stdout);
    assert.deepEqual(inspect.Config.Cmd, ['sh']);
    assert.equal(inspect.RootFS.Layers.length, 1);
  });

  test('docker run --rm prints and propagates exit codes', async () => {
    // A plain run is on the default bridge, with no warning.
    assert.deepEqual(await docker(daemon, ['run', '--rm', 'busybox', 'echo', 'hi']), { stdout: 'hi\n', stderr: '', code: 0 });
    assert.deepEqual(await docker(daemon, ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hi']), { stdout: 'hi\n', stderr: '', code: 0 });
    assert.equal((await docker(daemon, ['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    const missing = await docker(daemon, ['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /executable file not found in \$PATH/);
    const unknown = await docker(daemon, ['run', '--rm', 'nosuchimage:1', 'true']);
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /Unable to find image 'nosuchimage:1' locally/);
    assert.equal((await docker(daemon, ['ps', '-aq'])).stdout, '');
  });

  test('settings berthd cannot carry out yet are refused with the flag named, and nothing is created', async () => {
    for (const [flag, message] of [
      [['--storage-opt', 'size=1G'], /--storage-opt \(HostConfig\.StorageOpt\) is not supported yet by berthd/],
      [['--device-read-bps', '/dev/null:1mb'], /--device-read-bps \(HostConfig\.BlkioDeviceReadBps\)/],
      [['--cpu-rt-period', '1000'], /--cpu-rt-period \(HostConfig\.CpuRealtimePeriod\)/],
    ] as const) {
      const result = await docker(daemon, ['run', '--rm', ...flag, 'busybox', 'true']);
      assert.equal(result.code, 125);
      assert.match(result.stderr, message);
    }
    assert.equal((await docker(daemon, ['ps', '-aq'])).stdout, '');
  });

  test('docker run limits and options reach the container; docker update changes them', async () => {
    const run = await docker(daemon, ['run', '--rm', '--network', 'none', '-m', '64m', '--cpus', '0.5', '--pids-limit', '9', '--ulimit', 'nofile=512:1024', '--init', 'busybox', 'sh', '-c',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max; ulimit -n; tr "\\0" " " < /proc/1/cmdline']);
    assert.equal(run.code, 0, run.stderr);
    const [memory, quota, pids, nofile, init] = run.stdout.trim().split('\n');
    assert.deepEqual([memory, quota, pids, nofile], [String(64 * 1024 * 1024), '50000', '9', '512']);
    assert.match(init!, /^\/sbin\/docker-init -- sh -c /);
    assert.equal((await docker(daemon, ['run', '-d', '--name', 'upd', '--network', 'none', 'busybox', 'sleep', '60'])).code, 0);
    const update = await docker(daemon, ['update', '--cpus', '0.25', '--pids-limit', '7', 'upd']);
    assert.deepEqual(update, { stdout: 'upd\n', stderr: '', code: 0 });
    const inspect = await docker(daemon, ['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}', 'upd']);
    assert.equal(inspect.stdout, '250000000 7\n');
    const refused = await docker(daemon, ['run', '--rm', '--cpus', '-1', 'busybox', 'true']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /Error response from daemon: Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/);
    await docker(daemon, ['rm', '-f', 'upd']);
  });

  test('echo hi | docker run -i cat', async () => {
    const result = await docker(daemon, ['run', '-i', '--rm', 'busybox', 'cat'], 'hi\n');
    assert.equal(result.stdout, 'hi\n');
    assert.equal(result.code, 0);
  });

  test('docker run -d, logs -f, ps -a, inspect, stop, rm -f', async () => {
    const run = await docker(daemon, ['run', '-d', '--name', 't1', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; sleep 1; echo late; exec sleep 300']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const follow = execFile(DOCKER, ['logs', '-f', 't1'], { env: daemon.env });
    const followEnded = new Promise((resolve) => follow.once('exit', resolve));
    let followed = '';
    follow.stdout!.on('data', (d) => (followed += d));
    await new Promise((r) => setTimeout(r, 1800));
    assert.equal(followed, 'out1\nlate\n');
    const ps = await docker(daemon, ['ps', '-a']);
    assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo out1; e…"\\s+.+\\s+Up .+\\s+t1$`, 'm'));
    const [inspect] = JSON.parse((await docker(daemon, ['inspect', 't1'])).stdout);
    assert.equal(inspect.Id, id);
    assert.equal(inspect.State.Status, 'running');
    assert.equal(inspect.Config.Hostname, id.slice(0, 12));
    const stop = await docker(daemon, ['stop', '-t', '1', 't1']);
    assert.equal(stop.stdout, 't1\n');
    await followEnded;
    assert.equal((await docker(daemon, ['stop', 't1'])).code, 0, 'stopping a stopped container is not an error');
    assert.match((await docker(daemon, ['ps', '-a'])).stdout, /Exited \(137\) .* ago\s+t1/);
    assert.equal((await docker(daemon, ['rm', '-f', 't1'])).stdout, 't1\n');
    const gone = await docker(daemon, ['inspect', 't1']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such object: t1/);
  });

  test('name clash and unknown container errors', async () => {
    assert.equal((await docker(daemon, ['create', '--name', 'dup', 'busybox', 'true'])).code, 0);
    const clash = await docker(daemon, ['run', '--name', 'dup', 'busybox', 'true']);
    assert.equal(clash.code, 125);
    assert.match(clash.stderr, /Conflict\. The container name "\/dup" is already in use/);
    const rm = await docker(daemon, ['rm', 'nosuch']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /Error response from daemon: No such container: nosuch/);
    await docker(daemon, ['rm', 'dup']);
  });

  test('docker restart and docker rename', async () => {
    await docker(daemon, ['run', '-d', '--name', 'r1', 'busybox', 'sh', '-c', 'echo started; exec sleep 300']);
    const [before] = JSON.parse((await docker(daemon, ['inspect', 'r1'])).stdout);
    assert.equal((await docker(daemon, ['restart', '-t', '0', 'r1'])).stdout, 'r1\n');
    const [after] = JSON.parse((await docker(daemon, ['inspect', 'r1'])).stdout);
    assert.equal(after.State.Running, true);
    assert.notEqual(after.State.Pid, before.State.Pid);
    assert.equal((await docker(daemon, ['logs', 'r1'])).stdout, 'started\nstarted\n');
    assert.equal((await docker(daemon, ['rename', 'r1', 'r2'])).code, 0);
    assert.match((await docker(daemon, ['ps'])).stdout, /\sr2\n/);
    await docker(daemon, ['create', '--name', 'r3', 'busybox', 'true']);
    const clash = await docker(daemon, ['rename', 'r2', 'r3']);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /The container name "\/r3" is already in use/);
    assert.equal((await docker(daemon, ['rm', '-f', 'r2', 'r3'])).code, 0);
  });

  test('docker run -it gives a shell on a pty', async () => {
    const env = { ...daemon.env, TERM: 'xterm' };
    const result = await runOnPty(`${DOCKER} run -it --rm busybox sh`, env, ['tty; echo typed-$((40+2))\r', 'exit 5\r'], 600);
    assert.equal(result.code, 5, result.output);
    assert.match(result.output, /\/dev\/pts\/0/);
    assert.match(result.output, /typed-42/);
  });

  test('docker images NAME, docker images -f, docker ps -f ancestor=', async () => {
    await docker(daemon, ['tag', 'busybox', 'other:1']);
    assert.match((await docker(daemon, ['images', 'busybox'])).stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+\S+.*\n$/);
    assert.match((await docker(daemon, ['images', 'oth*'])).stdout, /\nother\s+1\s/);
    assert.equal((await docker(daemon, ['images', '-q', '-f', 'dangling=true'])).stdout, '');
    await docker(daemon, ['create', '--name', 'child', 'other:1', 'true']);
    assert.match((await docker(daemon, ['ps', '-a', '--format', '{{.Names}}', '-f', 'ancestor=busybox'])).stdout, /^child$/m);
    assert.equal((await docker(daemon, ['ps', '-a', '-q', '-f', 'ancestor=nosuchimage'])).stdout, '');
    const bad = await docker(daemon, ['ps', '-f', 'colour=red']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'colour'/);
    await docker(daemon, ['rm', 'child']);
    await docker(daemon, ['rmi', 'other:1']);
  });

  test('docker container prune and docker image prune', async () => {
    const stopped = (await docker(daemon, ['create', 'busybox', 'true'])).stdout.trim();
    await docker(daemon, ['run', '-d', '--name', 'alive', 'busybox', 'sleep', '300']);
    const pruned = await docker(daemon, ['container', 'prune', '-f']);
    assert.match(pruned.stdout, /^Deleted Containers:\n/);
    assert.ok(pruned.stdout.split('\n').includes(stopped), pruned.stdout);
    assert.match((await docker(daemon, ['ps', '-a', '--format', '{{.Names}}'])).stdout, /^alive\n$/);
    await docker(daemon, ['tag', 'busybox', 'spare:1']);
    assert.doesNotMatch((await docker(daemon, ['image', 'prune', '-f'])).stdout, /deleted:/, 'nothing is dangling');
    assert.doesNotMatch((await docker(daemon, ['image', 'prune', '-a', '-f'])).stdout, /deleted:/, 'a running container uses it');
    await docker(daemon, ['rm', '-f', 'alive']);
    await docker(daemon, ['rmi', 'spare:1']);
  });

  test('docker tag and rmi', async () => {
    assert.equal((await docker(daemon, ['tag', 'busybox', 'bb2:x'])).code, 0);
    assert.match((await docker(daemon, ['images'])).stdout, /bb2\s+x/);
    assert.equal((await docker(daemon, ['rmi', 'bb2:x'])).stdout, 'Untagged: bb2:x\n');
    await docker(daemon, ['create', '--name', 'user', 'busybox', 'true']);
    const conflict = await docker(daemon, ['rmi', 'busybox']);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /conflict: unable to remove repository reference "busybox" \(must force\) - container [0-9a-f]{12} is using its referenced image/);
    await docker(daemon, ['rm', 'user']);
    const removed = await docker(daemon, ['rmi', 'busybox']);
    assert.match(removed.stdout, /^Untagged: busybox:latest\nDeleted: sha256:[0-9a-f]{64}\n$/, removed.stderr);
  });
});
