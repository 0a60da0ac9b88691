/** top and stats through the API and the berth CLI, on real containers (both runtimes). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonError, EngineClient, type StatsResponse } from '../../src/client/index.js';
import { statsFigures } from '../../src/cli/commands/stats.js';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';

const MATRIX = [
  { storageDriver: 'overlay', defaultRuntime: 'crun' },
  { storageDriver: 'vfs', defaultRuntime: 'runc' },
];

async function collect(frames: AsyncGenerator<StatsResponse>, count = Infinity): Promise<StatsResponse[]> {
  const all: StatsResponse[] = [];
  for await (const frame of frames) {
    all.push(frame);
    if (all.length >= count) break;
  }
  return all;
}

for (const combo of MATRIX) {
  describe(`top and stats on ${combo.storageDriver} with ${combo.defaultRuntime}`, { timeout: 180_000 }, () => {
    let daemon: TestDaemon;
    let client: EngineClient;
    let boxId: string;
    before(async () => {
      daemon = await startDaemon(combo);
      client = new EngineClient(daemon.socket);
      await daemon.berth(['image', 'busybox']);
      boxId = (await daemon.berth(['run', '-d', '--name', 'box', '--network', 'none', 'busybox', 'sleep', '1000'])).stdout.trim();
    });
    after(async () => {
      client?.close();
      await daemon?.stop();
    });

    test('top lists the container\'s processes only, with the ps options given', async () => {
      await daemon.berth(['exec', '-d', 'box', 'sleep', '999']);
      // Started means the runtime has the pid; the process execs `sleep` a moment later.
      const commands = async () => (await client.topContainer('box')).Processes.map((p) => p[7]).sort();
      for (let i = 0; i < 100 && !(await commands()).includes('sleep 999'); i++) await sleep(50);
      const { Titles, Processes } = await client.topContainer('box');
      assert.deepEqual(Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
      assert.deepEqual(Processes.map((p) => p[7]).sort(), ['sleep 1000', 'sleep 999']);
      const { State } = await client.inspectContainer('box');
      assert.ok(Processes.some((p) => p[1] === String(State.Pid)), 'the init process, by its host pid');
      const custom = await client.topContainer('box', '-o pid,comm');
      assert.deepEqual(custom.Titles, ['PID', 'COMMAND']);
      assert.deepEqual(custom.Processes.map((p) => p[1]), ['sleep', 'sleep']);
      const table = await daemon.berth(['top', 'box', '-o', 'pid,args']);
      assert.match(table.stdout, /^PID {17}COMMAND\n\d+ +sleep 1000\n\d+ +sleep 999\n$/);
      const noPid = await client.topContainer('box', '-o comm').catch((err: unknown) => err);
      assert.ok(noPid instanceof DaemonError);
      assert.deepEqual([noPid.statusCode, noPid.message], [500, "Couldn't find PID field in ps output"]);
    });

    test('stats one-shot: the container\'s memory, pids and CPU from its cgroup', async () => {
      await daemon.berth(['exec', 'box', 'dd', 'if=/dev/zero', 'of=/dev/shm/fill', 'bs=1M', 'count=24']);
      const [stats] = await collect(client.containerStats('box', { stream: false, oneShot: true }));
      assert.equal(stats!.id, boxId);
      assert.equal(stats!.name, '/box');
      assert.ok(stats!.memory_stats.usage! >= 24 << 20, `usage ${stats!.memory_stats.usage}`);
      assert.ok(stats!.memory_stats.limit! > stats!.memory_stats.usage!);
      assert.equal(stats!.pids_stats.current, 2); // sleep 1000 and the exec'd sleep 999
      assert.ok(stats!.cpu_stats.cpu_usage.total_usage > 0);
      assert.ok(stats!.cpu_stats.online_cpus! >= 1);
      assert.equal(stats!.preread, '0001-01-01T00:00:00Z');
      assert.equal(stats!.precpu_stats.cpu_usage.total_usage, 0);
      assert.equal(stats!.networks, undefined); // --network none: loopback only, which Docker leaves out
      await daemon.berth(['exec', 'box', 'rm', '/dev/shm/fill']);
    });

    test('stats without stream: two samples a second apart, from which a busy container shows its CPU use', async (t) => {
      await daemon.berth(['run', '-d', '--name', 'busy', '--network', 'none', 'busybox', 'sh', '-c', 'while :; do :; done']);
      t.after(() => daemon.berth(['rm', '-f', 'busy']));
      const frames = await collect(client.containerStats('busy', { stream: false }));
      assert.equal(frames.length, 1);
      const [stats] = frames;
      const window = Date.parse(stats!.read) - Date.parse(stats!.preread);
      assert.ok(window >= 990 && window < 3000, `window ${window} ms`);
      const { cpuPercent } = statsFigures(stats!);
      // One spinning process: up to one CPU's worth, less what the other work of a shared machine
      // takes from it; an idle container over the same kind of window shows none.
      assert.ok(cpuPercent > 5 && cpuPercent < 110, `cpu ${cpuPercent}%`);
      const [idle] = await collect(client.containerStats('box', { stream: false }));
      assert.ok(statsFigures(idle!).cpuPercent < 1, `idle cpu ${statsFigures(idle!).cpuPercent}%`);
    });

    test('a stream gives a sample each second until the client leaves; a stopped container gives zeros', async () => {
      const started = Date.now();
      const frames = await collect(client.containerStats('box', { stream: true }), 3);
      assert.ok(Date.now() - started >= 1900);
      assert.equal(frames[1]!.preread, frames[0]!.read);
      assert.equal(frames[2]!.precpu_stats.cpu_usage.total_usage, frames[1]!.cpu_stats.cpu_usage.total_usage);
      await daemon.berth(['run', '--name', 'done', '--network', 'none', 'busybox', 'true']);
      const [stopped] = await collect(client.containerStats('done', { stream: false }));
      assert.equal(stopped!.read, '0001-01-01T00:00:00Z');
      assert.deepEqual([stopped!.memory_stats, stopped!.pids_stats], [{}, {}]);
      const top = await client.topContainer('done').catch((err: unknown) => err);
      assert.ok(top instanceof DaemonError && top.statusCode === 409 && /^container [0-9a-f]{64} is not running$/.test(top.message));
    });

    test('berth stats --no-stream: Docker\'s table and --format', async () => {
      const table = await daemon.berth(['stats', '--no-stream']);
      const lines = table.stdout.split('\n');
      assert.equal(lines[0], 'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS');
      assert.match(lines[1]!, new RegExp(`^${boxId.slice(0, 12)}   box       \\d+\\.\\d\\d%\\s+[\\d.]+[KM]iB / [\\d.]+GiB\\s+\\d+\\.\\d\\d%\\s+0B / 0B\\s+\\S+ / \\S+\\s+2$`));
      const formatted = await daemon.berth(['stats', '--no-stream', '--format', '{{.Container}}:{{.Name}}:{{.PIDs}}', 'box', boxId]);
      assert.equal(formatted.stdout, `box:box:2\n${boxId}:box:2\n`);
      const missing = await daemon.berth(['stats', '--no-stream', 'nosuch'], { allowFailure: true });
      assert.deepEqual([missing.code, missing.stderr], [1, 'Error response from daemon: No such container: nosuch\n']);
    });
  });
}
