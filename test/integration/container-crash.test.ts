/**
 * kill -9 of berthd in the middle of `run -d` and `rm -f` (issue 12 items 2 and 3): after the
 * restart every container can be started and removed, and nothing stays that no record owns
 * (runtime state, bundles, monitor files, cgroups, mounts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type TestDaemon, useBusyboxDaemon } from '../helpers/berthd.js';
import { mountsUnder } from '../helpers/http.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function crash(daemon: TestDaemon): Promise<void> {
  const exited = new Promise((resolve) => daemon.process.once('exit', resolve));
  daemon.process.kill('SIGKILL');
  await exited;
  await daemon.restart();
}

async function namesIn(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

describe('berthd killed during run -d and rm -f', { timeout: 240_000 }, () => {
  let daemon: TestDaemon;
  useBusyboxDaemon((d) => (daemon = d));

  /** Runtime containers, bundles and monitor folders, and cgroups, of containers berthd has no record of. */
  async function leftovers(): Promise<string[]> {
    const known = new Set((await daemon.berth(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean));
    const runtimeRoot = join(daemon.execRoot, 'runtime', 'crun');
    const listed = existsSync(runtimeRoot)
      ? (JSON.parse(execFileSync('crun', ['--root', runtimeRoot, 'list', '--format', 'json'], { encoding: 'utf8' }) || '[]') as Array<{ id: string }>).map((c) => c.id)
      : [];
    const files = [
      ...(await namesIn(join(daemon.execRoot, 'containers'))),
      ...(await namesIn(join(daemon.execRoot, 'persist'))),
    ];
    const cgroups = (await namesIn(join('/sys/fs/cgroup/memory', daemon.cgroupParent))).filter((name) => /^[0-9a-f]{64}$/.test(name));
    return [...new Set([...listed, ...files, ...cgroups])].filter((id) => !known.has(id));
  }

  test('after each kill every container starts and goes, and nothing is left that no record owns', async () => {
    for (let round = 0; round < 6; round++) {
      const name = `crash${round}`;
      const running = daemon.berth(['run', '-d', '--name', name, 'busybox', 'sleep', '300'], { allowFailure: true });
      await sleep(40 + round * 15);
      await crash(daemon);
      await running;
      const state = await daemon.berth(['inspect', '--format', '{{.State.Status}}', name], { allowFailure: true });
      if (state.code === 0 && state.stdout.trim() !== 'running') {
        const started = await daemon.berth(['start', name], { allowFailure: true });
        assert.equal(started.code, 0, `round ${round}: start after the crash: ${started.stderr}`);
      }
      const removing = daemon.berth(['rm', '-f', name], { allowFailure: true });
      await sleep(10 + round * 10);
      await crash(daemon);
      await removing;
      await daemon.berth(['rm', '-f', name], { allowFailure: true });
      // The restart's reconciliation has run before the socket answered.
      for (let i = 0; i < 40 && (await leftovers()).length > 0; i++) await sleep(100);
      assert.deepEqual(await leftovers(), [], `round ${round}`);
    }
    assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
    assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
  });

  test('a container that exited while berthd was down shows its own exit time and code (issue 12 item 10)', async () => {
    await daemon.berth(['run', '-d', '--name', 'whiledown', 'busybox', 'sh', '-c', 'sleep 1; exit 7']);
    const exited = new Promise((resolve) => daemon.process.once('exit', resolve));
    daemon.process.kill('SIGKILL');
    await exited;
    await sleep(2500);
    const restartedAt = Date.now();
    await daemon.restart();
    const state = JSON.parse((await daemon.berth(['inspect', 'whiledown'])).stdout)[0].State;
    assert.deepEqual([state.Status, state.ExitCode], ['exited', 7]);
    assert.ok(Date.parse(state.FinishedAt) < restartedAt - 1000, `FinishedAt ${state.FinishedAt} is the exit, not the restart`);
    await daemon.berth(['rm', 'whiledown']);
  });

  test('run files a start cut short left for a created container go at the restart, and with its removal', async () => {
    /** What conmon's create writes first: the bundle's config.json and the persist dir. */
    const leaveRunFiles = async (id: string) => {
      const bundle = join(daemon.execRoot, 'containers', id);
      await mkdir(bundle, { recursive: true });
      await writeFile(join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', linux: { cgroupsPath: `${daemon.cgroupParent}/${id}` } }));
      await mkdir(join(daemon.execRoot, 'persist', id), { recursive: true });
    };
    const runFiles = async (id: string) =>
      [join(daemon.execRoot, 'containers', id), join(daemon.execRoot, 'persist', id)].filter((path) => existsSync(path));

    const kept = (await daemon.berth(['create', '--name', 'cutshort', 'busybox', 'true'])).stdout.trim();
    await leaveRunFiles(kept);
    await crash(daemon);
    assert.deepEqual(await runFiles(kept), [], 'released at the restart');
    assert.equal((await daemon.berth(['inspect', '--format', '{{.State.Status}}', 'cutshort'])).stdout.trim(), 'created');

    const removed = (await daemon.berth(['create', '--name', 'cutshort2', 'busybox', 'true'])).stdout.trim();
    await leaveRunFiles(removed);
    await daemon.berth(['rm', 'cutshort2']);
    assert.deepEqual(await runFiles(removed), [], 'released by the removal');
    await daemon.berth(['rm', 'cutshort']);
  });
});
