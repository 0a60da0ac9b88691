/**
 * `docker run` options, each checked by its effect inside a real container (its cgroup files,
 * /proc/self/*, ulimit) as well as where inspect shows it, on crun and runc.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BERTH, type TestDaemon, useBusyboxDaemon } from '../helpers/berthd.js';

const execFileAsync = promisify(execFile);
const MiB = 1024 * 1024;

async function inspect(daemon: TestDaemon, name: string): Promise<{ Config: Record<string, unknown>; HostConfig: Record<string, unknown>; State: Record<string, unknown> }> {
  return JSON.parse((await daemon.berth(['inspect', name])).stdout)[0];
}

for (const runtime of ['crun', 'runc']) {
  describe(`run options on ${runtime}`, { timeout: 240_000 }, () => {
    let daemon: TestDaemon;
    useBusyboxDaemon((d) => (daemon = d), { defaultRuntime: runtime });
    const run = (args: string[], command: string) => daemon.berth(['run', '--network', 'none', ...args, 'busybox', 'sh', '-c', command]);

    test('memory, swap and reservation reach the memory cgroup; inspect shows them with the default swap', async () => {
      const { stdout } = await run(
        ['--name', 'mem', '-m', '64m', '--memory-reservation', '32m', '--memory-swappiness', '10'],
        'cd /sys/fs/cgroup/memory; cat memory.limit_in_bytes memory.memsw.limit_in_bytes memory.soft_limit_in_bytes memory.swappiness',
      );
      assert.deepEqual(stdout.trim().split('\n').map(Number), [64 * MiB, 128 * MiB, 32 * MiB, 10]);
      const { HostConfig } = await inspect(daemon, 'mem');
      assert.equal(HostConfig.Memory, 64 * MiB);
      assert.equal(HostConfig.MemorySwap, 128 * MiB);
      assert.equal(HostConfig.MemoryReservation, 32 * MiB);
      assert.equal(HostConfig.MemorySwappiness, 10);
      assert.equal(HostConfig.OomKillDisable, false);
      const swap = await run(['--rm', '-m', '64m', '--memory-swap', '96m'], 'cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
      assert.equal(Number(swap.stdout), 96 * MiB);
    });

    test('cpus, cpu-shares, cfs period/quota and cpuset reach the cpu and cpuset cgroups', async () => {
      const { stdout } = await run(
        ['--name', 'cpu', '--cpus', '0.5', '-c', '512', '--cpuset-cpus', '1', '--cpuset-mems', '0'],
        'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/cpuset/cpuset.mems; grep Cpus_allowed_list /proc/self/status',
      );
      assert.deepEqual(stdout.trim().split('\n'), ['50000', '100000', '512', '1', '0', 'Cpus_allowed_list:\t1']);
      const { HostConfig } = await inspect(daemon, 'cpu');
      assert.equal(HostConfig.NanoCpus, 5e8);
      assert.equal(HostConfig.CpuShares, 512);
      assert.equal(HostConfig.CpusetCpus, '1');
      const cfs = await run(['--rm', '--cpu-period', '50000', '--cpu-quota', '20000'], 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us');
      assert.deepEqual(cfs.stdout.trim().split('\n'), ['20000', '50000']);
    });

    test('pids-limit stops a fork past the limit', async () => {
      const { stdout } = await run(['--name', 'pids', '--pids-limit', '5'], 'cat /sys/fs/cgroup/pids/pids.max');
      assert.equal(stdout, '5\n');
      assert.equal((await inspect(daemon, 'pids')).HostConfig.PidsLimit, 5);
      const failed = await daemon.berth(['run', '--rm', '--network', 'none', '--pids-limit', '3', 'busybox', 'sh', '-c', 'sleep 5 & sleep 5 & sleep 5 & wait'], { allowFailure: true });
      assert.match(failed.stderr, /can't fork|Resource temporarily unavailable/);
    });

    test('ulimits are set, and clamped to the hard limits of this machine', async () => {
      const { stdout } = await run(['--name', 'ul', '--ulimit', 'nofile=1000:2000', '--ulimit', 'nproc=50'], 'ulimit -Sn; ulimit -Hn; ulimit -u');
      assert.deepEqual(stdout.trim().split('\n'), ['1000', '2000', '50']);
      assert.deepEqual((await inspect(daemon, 'ul')).HostConfig.Ulimits, [
        { Name: 'nofile', Soft: 1000, Hard: 2000 },
        { Name: 'nproc', Soft: 50, Hard: 50 },
      ]);
      const hard = Number((await import('node:fs')).readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+\d+\s+(\d+)/m)![1]);
      const clamped = await run(['--rm', '--ulimit', `nofile=${hard + 10000}`], 'ulimit -Hn');
      assert.equal(Number(clamped.stdout), hard);
      const unlimited = await run(['--rm', '--ulimit', 'nofile=-1'], 'ulimit -Hn');
      assert.equal(Number(unlimited.stdout), hard, '-1 (unlimited) is clamped as well');
    });

    test('oom-score-adj and oom-kill-disable reach /proc/self/oom_score_adj and memory.oom_control', async () => {
      const { stdout } = await run(['--name', 'oom', '-m', '32m', '--oom-score-adj', '432', '--oom-kill-disable'], 'cat /proc/self/oom_score_adj; grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control');
      assert.deepEqual(stdout.trim().split('\n'), ['432', 'oom_kill_disable 1']);
      const { HostConfig } = await inspect(daemon, 'oom');
      assert.equal(HostConfig.OomScoreAdj, 432);
      assert.equal(HostConfig.OomKillDisable, true);
    });

    test('a memory hog under --memory is OOM-killed: exit 137, OOMKilled in inspect, an oom event', async () => {
      const since = Math.floor(Date.now() / 1000) - 1;
      const hog = await daemon.berth(
        ['run', '--name', 'hog', '--network', 'none', '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'x=a; while true; do x=$x$x; done'],
        { allowFailure: true },
      );
      assert.equal(hog.code, 137);
      const { State } = await inspect(daemon, 'hog');
      assert.equal(State.OOMKilled, true);
      assert.equal(State.ExitCode, 137);
      const events = await daemon.berth(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'container=hog', '--format', '{{.Action}}']);
      assert.deepEqual(events.stdout.trim().split('\n'), ['create', 'attach', 'start', 'oom', 'die']);
      // A container that stays within its limit is not marked.
      await daemon.berth(['run', '--name', 'calm', '--network', 'none', '-m', '16m', 'busybox', 'true']);
      assert.equal((await inspect(daemon, 'calm')).State.OOMKilled, false);
    });

    test('blkio-weight is discarded with Docker\'s warning on a host without a weight-based I/O scheduler', async () => {
      const result = await daemon.berth(['create', '--network', 'none', '--name', 'blkio', '--blkio-weight', '300', 'busybox']);
      assert.match(result.stderr, /Your kernel does not support Block I\/O weight or the cgroup is not mounted\. Weight discarded\./);
      assert.equal((await inspect(daemon, 'blkio')).HostConfig.BlkioWeight, 0);
    });

    test('domainname, env-file, label-file, stop-signal and stop-timeout', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'berth-run-options-'));
      try {
        await writeFile(join(dir, 'env'), '\uFEFF# comment\nFOO=bar\n  BAZ=with spaces\n\nFROM_HOST\n');
        await writeFile(join(dir, 'labels'), 'team=core\nflag\n');
        const { stdout } = await run(
          ['--name', 'misc', '--domainname', 'example.org', '--env-file', join(dir, 'env'), '--label-file', join(dir, 'labels'), '-l', 'team=edge', '--stop-signal', 'SIGUSR1', '--stop-timeout', '3'],
          'cat /proc/sys/kernel/domainname; echo "$FOO|$BAZ|${FROM_HOST-unset}"',
        );
        assert.deepEqual(stdout.trim().split('\n'), ['example.org', 'bar|with spaces|unset']);
        const { Config } = await inspect(daemon, 'misc');
        assert.equal(Config.Domainname, 'example.org');
        assert.deepEqual(Config.Labels, { team: 'edge', flag: '' });
        assert.equal(Config.StopSignal, 'SIGUSR1');
        assert.equal(Config.StopTimeout, 3);
        // Through the launcher: node 20 itself reads an `--env-file` anywhere in its arguments.
        const missing = await execFileAsync(BERTH, ['run', '--rm', '--env-file', join(dir, 'nope'), 'busybox', 'true'], { env: daemon.env }).catch((err) => err);
        assert.equal(missing.code, 125, missing.stderr);
        assert.match(missing.stderr, /open .*nope: no such file or directory/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test("bad values get Docker's messages and create nothing", async () => {
      const before = (await daemon.berth(['ps', '-aq'])).stdout;
      const cases: Array<[string[], RegExp]> = [
        [['-m', '1q'], /invalid suffix: 'q'/],
        [['-m', '1k'], /Minimum memory limit allowed is 6MB/],
        [['--cpus', '-1'], /Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/],
        [['--cpuset-cpus', '99'], /Requested CPUs are not available - requested 99/],
        [['--memory-swap', '64m'], /You should always set the Memory limit when using Memoryswap limit, see usage/],
        [['--oom-score-adj', '1001'], /Invalid value 1001, range for oom score adj is \[-1000, 1000\]/],
        [['--ulimit', 'nofiles=1'], /invalid ulimit type: nofiles/],
        [['--stop-signal', 'SIGNOPE'], /Invalid signal: SIGNOPE/],
        [['--cap-add', 'NOPE'], /unknown capability: "CAP_NOPE"/],
      ];
      for (const [flags, message] of cases) {
        const result = await daemon.berth(['run', '--rm', ...flags, 'busybox', 'true'], { allowFailure: true });
        assert.equal(result.code, 125, flags.join(' '));
        assert.match(result.stderr, message, flags.join(' '));
      }
      assert.equal((await daemon.berth(['ps', '-aq'])).stdout, before);
    });
  });
}
