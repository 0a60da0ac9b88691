import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type TestDaemon, useBusyboxDaemon } from '../helpers/berthd.js';
import { docker } from '../helpers/docker-cli.js';
import { settledViolations, violations } from '../fault/invariants.js';

interface Inspected {
  RestartCount: number;
  State: { Status: string; Running: boolean; Restarting: boolean; ExitCode: number; Pid: number; StartedAt: string };
  HostConfig: { RestartPolicy: { Name: string; MaximumRetryCount: number } };
}

async function inspect(daemon: TestDaemon, name: string): Promise<Inspected> {
  return JSON.parse((await daemon.berth(['inspect', name])).stdout)[0] as Inspected;
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !(await check()); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
  }
}

describe('restart policies on real containers', { timeout: 240_000 }, () => {
  let daemon: TestDaemon;
  useBusyboxDaemon((d) => (daemon = d));

  test('on-failure:2 runs a failing container three times in all; each run sees the last one\'s files', async () => {
    // The writable layer outlives the restarts: the count of lines is the number of the run.
    await daemon.berth(['run', '-d', '--name', 'fail2', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo x >> /runs; echo run $(wc -l < /runs); exit 3']);
    await until('the restarts to end', async () => (await inspect(daemon, 'fail2')).State.Status === 'exited');
    const state = await inspect(daemon, 'fail2');
    assert.deepEqual([state.RestartCount, state.State.ExitCode, state.HostConfig.RestartPolicy], [2, 3, { Name: 'on-failure', MaximumRetryCount: 2 }]);
    assert.deepEqual((await daemon.berth(['logs', 'fail2'])).stdout.split('\n').filter(Boolean), ['run 1', 'run 2', 'run 3']);
    const since = new Date(Date.parse(state.State.StartedAt) - 10_000).toISOString();
    const events = await daemon.berth(['events', '--since', since, '--until', new Date().toISOString(), '--filter', 'container=fail2', '--format', '{{.Action}}']);
    assert.deepEqual(events.stdout.split('\n').filter((a) => a === 'start' || a === 'die'), ['start', 'die', 'start', 'die', 'start', 'die']);
    assert.deepEqual(await settledViolations(daemon), []);
    await daemon.berth(['rm', 'fail2']);
  });

  test('always: a crash loop backs off, shows as restarting in ps and inspect, and a stop ends it leaving nothing behind', async () => {
    await daemon.berth(['run', '-d', '--name', 'loop', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
    // After a few restarts the back-off (100 ms doubling) is long enough to be seen.
    // ps and inspect both see it between two runs: the early waits are short, so an inspect made
    // after the ps alone may already find the next run.
    let restarting: Inspected | undefined;
    await until('a restarting container in ps and inspect', async () => {
      const ps = await docker(daemon, ['ps', '--filter', 'status=restarting', '--format', '{{.Names}} {{.Status}}']);
      if (!/^loop Restarting \(1\) .+ ago\n$/.test(ps.stdout)) return false;
      const state = await inspect(daemon, 'loop');
      if (state.State.Restarting) restarting = state;
      return restarting !== undefined;
    });
    assert.ok(restarting);
    assert.deepEqual([restarting.State.Running, restarting.State.Restarting, restarting.State.Pid], [true, true, 0]);
    assert.ok(restarting.RestartCount >= 1, `RestartCount ${restarting.RestartCount}`);
    // A sample taken inside one restarting wait (same count before and after), once the wait is
    // long (the 4th is 800 ms) and the last run's teardown, queued behind its exit as in moby's
    // Cleanup, has had 300 ms to finish.
    for (;;) {
      const before = await inspect(daemon, 'loop');
      if (!before.State.Restarting || before.RestartCount < 4) continue;
      await new Promise((r) => setTimeout(r, 300));
      const found = await violations(daemon);
      const after = await inspect(daemon, 'loop');
      if (!after.State.Restarting || before.RestartCount !== after.RestartCount) continue;
      assert.deepEqual(found, [], 'a container waiting to restart holds no run');
      break;
    }
    const stopped = await docker(daemon, ['stop', 'loop']);
    assert.equal(stopped.code, 0, stopped.stderr);
    const state = await inspect(daemon, 'loop');
    assert.deepEqual([state.State.Status, state.State.Running, state.State.Restarting, state.State.ExitCode], ['exited', false, false, 1]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await inspect(daemon, 'loop')).State.Status, 'exited', 'a stop by hand is final');
    assert.deepEqual(await settledViolations(daemon), []);
    await daemon.berth(['rm', 'loop']);
  });

  test('a container killed from outside is brought back by "always"; its RestartCount says so', async () => {
    await daemon.berth(['run', '-d', '--name', 'keeper', '--restart', 'always', 'busybox', 'sleep', '600']);
    const first = await inspect(daemon, 'keeper');
    process.kill(first.State.Pid, 'SIGKILL');
    await until('the restart', async () => {
      const now = await inspect(daemon, 'keeper');
      return now.State.Status === 'running' && now.State.Pid !== first.State.Pid;
    });
    assert.equal((await inspect(daemon, 'keeper')).RestartCount, 1);
    await daemon.berth(['rm', '-f', 'keeper']);
    assert.deepEqual(await settledViolations(daemon), []);
  });

  test('daemon restart: always comes back (even after a stop by hand), unless-stopped stopped by hand does not', async () => {
    await daemon.berth(['run', '-d', '--name', 'al', '--restart', 'always', 'busybox', 'sleep', '600']);
    await daemon.berth(['run', '-d', '--name', 'us', '--restart', 'unless-stopped', 'busybox', 'sleep', '600']);
    await daemon.berth(['run', '-d', '--name', 'died', '--restart', 'unless-stopped', 'busybox', 'sleep', '600']);
    await daemon.berth(['stop', '-t', '1', 'al', 'us']);
    const diedPid = (await inspect(daemon, 'died')).State.Pid;
    const exited = new Promise((r) => daemon.process.once('exit', r));
    daemon.process.kill('SIGKILL');
    await exited;
    // Killed while berthd is down: its exit is found at the next start and the policy acts on it.
    process.kill(diedPid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    await daemon.restart();
    await until('the container killed meanwhile to come back', async () => {
      const now = await inspect(daemon, 'died');
      return now.State.Status === 'running' && now.State.Pid !== diedPid;
    });
    await until('always to come back', async () => (await inspect(daemon, 'al')).State.Status === 'running');
    assert.equal((await inspect(daemon, 'us')).State.Status, 'exited');
    await daemon.berth(['rm', '-f', 'al', 'us', 'died']);
    assert.deepEqual(await settledViolations(daemon), []);
  });

  test('Docker\'s errors: a negative count, a count with another policy, --restart with --rm', async () => {
    const negative = await docker(daemon, ['run', '--restart', 'on-failure:-1', 'busybox', 'true']);
    assert.equal(negative.code, 125);
    assert.match(negative.stderr, /Error response from daemon: invalid restart policy: maximum retry count cannot be negative/);
    const counted = await daemon.berth(['create', '--restart', 'always:3', 'busybox', 'true'], { allowFailure: true });
    assert.notEqual(counted.code, 0);
    assert.match(counted.stderr, /invalid restart policy: maximum retry count can only be used with 'on-failure'/);
    const withRm = await daemon.berth(['run', '--rm', '--restart', 'always', 'busybox', 'true'], { allowFailure: true });
    assert.equal(withRm.code, 125);
    assert.match(withRm.stderr, /Conflicting options: --restart and --rm/);
    const left = (await daemon.berth(['ps', '-a'])).stdout;
    assert.equal(left.split('\n').length, 2, `nothing was created: ${left}`);
  });
});
