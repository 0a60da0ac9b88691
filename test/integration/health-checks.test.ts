import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { packBusyboxRootfs } from '../../src/bootstrap/busybox-rootfs.js';
import { type TestDaemon, useBusyboxDaemon } from '../helpers/berthd.js';
import { docker } from '../helpers/docker-cli.js';

interface Health {
  Status: string;
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

async function inspect(
  daemon: TestDaemon,
  name: string,
): Promise<{ State: { Status: string; Pid: number; Health?: Health; StartedAt: string }; Config: { Healthcheck?: Record<string, unknown> } }> {
  return JSON.parse((await daemon.berth(['inspect', name])).stdout)[0];
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !(await check()); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
  }
}

/** Host processes whose command line is exactly `args`. */
async function processesRunning(args: string[]): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline === `${args.join('\0')}\0`) found.push(Number(pid));
  }
  return found;
}

describe('health checks on real containers', { timeout: 240_000 }, () => {
  let daemon: TestDaemon;
  useBusyboxDaemon((d) => (daemon = d));

  test('a probe that follows a file in the container: starting, unhealthy, healthy, unhealthy; events, log and ps', async () => {
    const started = new Date(Date.now() - 1000).toISOString();
    const run = await docker(daemon, ['run', '-d', '--name', 'hc', '--health-cmd', 'cat /ready', '--health-interval', '250ms', '--health-retries', '2', 'busybox', 'sleep', '600']);
    assert.equal(run.code, 0, run.stderr);
    try {
      const hc = await inspect(daemon, 'hc');
      assert.deepEqual(hc.Config.Healthcheck, { Test: ['CMD-SHELL', 'cat /ready'], Interval: 250_000_000, Retries: 2 });
      // The file the probe reads is made and removed from the host, through the container's root.
      const ready = `/proc/${hc.State.Pid}/root/ready`;
      // Its first probe only comes a minute after the start.
      await daemon.berth(['run', '-d', '--name', 'later', '--health-cmd', 'true', '--health-interval', '1m', 'busybox', 'sleep', '600']);
      assert.deepEqual((await inspect(daemon, 'later')).State.Health, { Status: 'starting', FailingStreak: 0, Log: [] });
      assert.match((await docker(daemon, ['ps', '--filter', 'name=later', '--format', '{{.Status}}'])).stdout, /^Up .* \(health: starting\)\n$/);
      await until('unhealthy', async () => (await inspect(daemon, 'hc')).State.Health?.Status === 'unhealthy');
      const failing = (await inspect(daemon, 'hc')).State.Health!;
      assert.ok(failing.FailingStreak >= 2);
      assert.equal(failing.Log.at(-1)!.ExitCode, 1);
      assert.match(failing.Log.at(-1)!.Output, /cat: can't open '\/ready': No such file or directory/);
      await writeFile(ready, 'up\n');
      await until('healthy', async () => (await inspect(daemon, 'hc')).State.Health?.Status === 'healthy');
      const healthy = (await inspect(daemon, 'hc')).State.Health!;
      assert.deepEqual([healthy.FailingStreak, healthy.Log.at(-1)!.ExitCode, healthy.Log.at(-1)!.Output], [0, 0, 'up\n']);
      assert.ok(healthy.Log.length <= 5);
      assert.match((await docker(daemon, ['ps', '--filter', 'name=hc', '--format', '{{.Status}}'])).stdout, /^Up .* \(healthy\)\n$/);
      await rm(ready);
      await until('unhealthy again', async () => (await inspect(daemon, 'hc')).State.Health?.Status === 'unhealthy');
      const events = await docker(daemon, ['events', '--since', started, '--until', new Date().toISOString(), '--filter', 'container=hc', '--format', '{{.Action}}']);
      assert.deepEqual(
        events.stdout.split('\n').filter((a) => a.startsWith('health_status')),
        ['health_status: unhealthy', 'health_status: healthy', 'health_status: unhealthy'],
      );
      assert.match(events.stdout, /^exec_create: \/bin\/sh -c cat \/ready$/m);
      assert.match(events.stdout, /^exec_die$/m);
    } finally {
      await daemon.berth(['rm', '-f', 'hc', 'later'], { allowFailure: true });
    }
  });

  test('a probe past its timeout is killed and counts as failed, with Docker\'s message', async () => {
    await daemon.berth(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 7.25', '--health-timeout', '300ms', '--health-interval', '200ms', '--health-retries', '1', 'busybox', 'sleep', '600']);
    await until('unhealthy', async () => (await inspect(daemon, 'slow')).State.Health?.Status === 'unhealthy');
    const last = (await inspect(daemon, 'slow')).State.Health!.Log.at(-1)!;
    assert.deepEqual([last.ExitCode, last.Output], [-1, 'Health check exceeded timeout (300ms)']);
    assert.ok(Date.parse(last.End) - Date.parse(last.Start) < 3000);
    await daemon.berth(['rm', '-f', 'slow']);
    await until('no probe left running', async () => (await processesRunning(['sleep', '7.25'])).length === 0, 3000);
  });

  test('start period: failures do not count before the first success; start interval: probes come faster meanwhile', async () => {
    await daemon.berth(['run', '-d', '--name', 'grace', '--health-cmd', 'false', '--health-start-period', '2s', '--health-interval', '200ms', '--health-retries', '1', 'busybox', 'sleep', '600']);
    await daemon.berth([
      'run', '-d', '--name', 'quick', '--health-cmd', 'test -e /ready', '--health-interval', '1m', '--health-start-interval', '100ms',
      '--health-start-period', '1m', 'busybox', 'sleep', '600',
    ]); // prettier-ignore
    try {
      await until('unhealthy once the start period is over', async () => (await inspect(daemon, 'grace')).State.Health?.Status === 'unhealthy');
      const grace = await inspect(daemon, 'grace');
      const startedAt = Date.parse(grace.State.StartedAt);
      const inPeriod = grace.State.Health!.Log.filter((r) => Date.parse(r.Start) - startedAt < 2000);
      const after = grace.State.Health!.Log.filter((r) => Date.parse(r.Start) - startedAt >= 2000);
      // Every probe failed, but only those after the start period count.
      assert.ok(after.length >= 1 && grace.State.Health!.FailingStreak <= after.length + 1, JSON.stringify(grace.State.Health));
      if (inPeriod.length > 0) assert.ok(grace.State.Health!.FailingStreak < grace.State.Health!.Log.length);
      const quick = await inspect(daemon, 'quick');
      await writeFile(`/proc/${quick.State.Pid}/root/ready`, '');
      // With a 1 min interval only the start interval can make it healthy this soon.
      await until('healthy through the start interval', async () => (await inspect(daemon, 'quick')).State.Health?.Status === 'healthy', 15_000);
    } finally {
      await daemon.berth(['rm', '-f', 'grace', 'quick'], { allowFailure: true });
    }
  });

  test('HEALTHCHECK from the image applies; the request overrides its fields; --no-healthcheck turns it off', async () => {
    const work = await mkdtemp(join(tmpdir(), 'berth-hc-'));
    try {
      const tar = join(work, 'rootfs.tar');
      await pipeline(packBusyboxRootfs(), createWriteStream(tar));
      const imported = await docker(daemon, [
        'import', '-c', 'CMD ["sleep", "600"]', '-c', 'HEALTHCHECK --interval=200ms --retries=1 CMD ["cat", "/etc/hostname"]', tar, 'hcimage',
      ]); // prettier-ignore
      assert.equal(imported.code, 0, imported.stderr);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    await daemon.berth(['run', '-d', '--name', 'fromimage', 'hcimage']);
    await daemon.berth(['run', '-d', '--name', 'overridden', '--health-cmd', 'exit 1', 'hcimage']);
    await daemon.berth(['run', '-d', '--name', 'off', '--no-healthcheck', 'hcimage']);
    assert.deepEqual((await inspect(daemon, 'fromimage')).Config.Healthcheck, { Test: ['CMD', 'cat', '/etc/hostname'], Interval: 200_000_000, Retries: 1 });
    await until('the image\'s check to pass', async () => (await inspect(daemon, 'fromimage')).State.Health?.Status === 'healthy');
    const hostname = (await inspect(daemon, 'fromimage')).State.Health!.Log.at(-1)!.Output;
    assert.match(hostname, /^[0-9a-f]{12}\n$/, 'the probe ran in the container (its hostname file)');
    assert.deepEqual((await inspect(daemon, 'overridden')).Config.Healthcheck, { Test: ['CMD-SHELL', 'exit 1'], Interval: 200_000_000, Retries: 1 });
    await until('the overriding check to fail', async () => (await inspect(daemon, 'overridden')).State.Health?.Status === 'unhealthy');
    const off = await inspect(daemon, 'off');
    // As moby's merge: the request's Test (NONE) wins, the image fills the fields left unset.
    assert.deepEqual(off.Config.Healthcheck, { Test: ['NONE'], Interval: 200_000_000, Retries: 1 });
    assert.equal(off.State.Health, undefined);
    const filtered = await docker(daemon, ['ps', '--filter', 'health=healthy', '--format', '{{.Names}}']);
    assert.equal(filtered.stdout, 'fromimage\n', filtered.stderr);
    const none = await docker(daemon, ['ps', '--filter', 'health=none', '--format', '{{.Names}}']);
    assert.equal(none.stdout, 'off\n', none.stderr);
    await daemon.berth(['rm', '-f', 'fromimage', 'overridden', 'off']);
    await daemon.berth(['rmi', 'hcimage']);
  });

  test('Docker\'s errors for health settings', async () => {
    const conflict = await docker(daemon, ['run', '--no-healthcheck', '--health-cmd', 'true', 'busybox', 'true']);
    assert.equal(conflict.code, 125);
    assert.match(conflict.stderr, /--no-healthcheck conflicts with --health-\* options/);
    const tooShort = await docker(daemon, ['create', '--health-cmd', 'true', '--health-interval', '10us', 'busybox', 'true']);
    assert.notEqual(tooShort.code, 0);
    assert.match(tooShort.stderr, /Interval in Healthcheck cannot be less than 1ms/);
    const berthNegative = await daemon.berth(['create', '--health-cmd', 'true', '--health-retries', '-1', 'busybox', 'true'], { allowFailure: true });
    assert.equal(berthNegative.code, 125);
    assert.match(berthNegative.stderr, /--health-retries cannot be negative/);
  });
});
