import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { DOCKER, docker } from '../helpers/docker-cli.js';
import { packBusyboxRootfs } from '../../src/bootstrap/busybox-rootfs.js';

/** RFC 3339 with seconds, as a user types it; the CLI turns it into a Unix timestamp. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('docker events against berthd', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  let work: string;
  before(async () => {
    daemon = await startDaemon();
    work = await mkdtemp(join(tmpdir(), 'berth-events-compat-'));
    const tar = join(work, 'rootfs.tar');
    await pipeline(packBusyboxRootfs(), createWriteStream(tar));
    const imported = await docker(daemon, ['import', '-c', 'CMD ["sh"]', tar, 'busybox:latest']);
    assert.equal(imported.code, 0, imported.stderr);
  });
  after(async () => {
    await daemon?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('--since a past time and --until now list what happened, with --filter and --format', async () => {
    await pause(1100); // the import is over a second old: whole-second times leave it out
    const since = Date.now();
    await docker(daemon, ['tag', 'busybox', 'copy:1']);
    await docker(daemon, ['rmi', 'copy:1']);
    await pause(1100);
    const listed = await docker(daemon, ['events', '--since', rfc3339(since), '--until', rfc3339(Date.now()), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^tag copy:1\nuntag sha256:[0-9a-f]{64}\n$/);
    const byDuration = await docker(daemon, ['events', '--since', '1m', '--until', '0s', '--filter', 'event=untag', '--format', '{{.Type}} {{.Action}}']);
    assert.equal(byDuration.stdout, 'image untag\n');
    const json = await docker(daemon, ['events', '--since', '1m', '--until', '0s', '--filter', 'event=tag', '--format', '{{json .}}']);
    const event = JSON.parse(json.stdout.split('\n').filter(Boolean).at(-1)!);
    assert.equal(event.Type, 'image');
    assert.equal(event.scope, 'local');
  });

  test('docker events shows an event while it happens', async () => {
    const child = spawn(DOCKER, ['events', '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], { env: daemon.env });
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      await pause(500); // the CLI is connected once the daemon has sent the headers
      await docker(daemon, ['tag', 'busybox', 'live:1']);
      const next = await Promise.race([lines.next(), pause(5000).then(() => ({ value: 'nothing within 5 s' }))]);
      assert.equal(next.value, 'tag live:1');
    } finally {
      child.kill();
      await docker(daemon, ['rmi', 'live:1']);
    }
  });

  test('container events after a run --rm: create, attach, start, die, destroy, as dockerd orders them', async () => {
    await pause(1100);
    const since = Date.now();
    const run = await docker(daemon, ['run', '--rm', 'busybox', 'true']);
    assert.equal(run.code, 0, run.stderr);
    await pause(1100);
    const listed = await docker(daemon, ['events', '--since', rfc3339(since), '--until', rfc3339(Date.now()), '--filter', 'type=container', '--format', '{{.Action}}']);
    // As dockerd for `docker run --rm` without a network: attach comes before start.
    assert.equal(listed.stdout, 'create\nattach\nstart\ndie\ndestroy\n');
    const exits = await docker(daemon, ['events', '--since', rfc3339(since), '--until', rfc3339(Date.now()), '--filter', 'event=die', '--filter', 'image=busybox', '--format', '{{.Actor.Attributes.exitCode}} {{.From}}']);
    assert.equal(exits.stdout, '0 busybox\n');
  });
});
