/**
 * The fault-injection run: berthd is killed with SIGKILL at a random moment during create, start,
 * run -d, a crash loop under a restart policy, a container under a fast health check, stop, rm -f, import, load, build, commit and rmi; after each restart every invariant of ./invariants.ts must
 * hold and the API must still run a container. Seeded and reproducible: the seed is printed, and
 * BERTH_FAULT_SEED=<seed> replays a run. BERTH_FAULT_KILLS sets the number of kills (default 100;
 * raise it for a soak). BERTH_FAULT_OPS=pull,load (operation names) kills only during those.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { packBusyboxRootfs } from '../../src/bootstrap/busybox-rootfs.js';
import { rawRequest } from '../helpers/http.js';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { putImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildTar } from '../unit/archive-fixtures.js';
import { reapLeftovers, removeCgroups, settledViolations } from './invariants.js';
import {
  createContainer,
  importImage,
  buildImage,
  commitContainer,
  loadImage,
  pullAndRemove,
  removeContainer,
  removeImage,
  removeVolume,
  runToEnd,
  runWithVolumes,
  startContainer,
  stopContainer,
  type Target,
  createNetwork,
} from './operations.js';

const KILLS = Number(process.env.BERTH_FAULT_KILLS ?? 100);
const SEED = Number(process.env.BERTH_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ONLY = process.env.BERTH_FAULT_OPS?.split(',');
/** More containers than this and the run removes some, so that each check stays quick. */
const MAX_CONTAINERS = 6;

/** mulberry32: small, seedable, good enough to pick operations and delays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Operation {
  name: string;
  /** Longest useful kill delay: past it the operation is usually over. */
  windowMs: number;
  run(): Promise<unknown>;
}

describe('kill -9 at random moments', { timeout: 30 * 60_000 }, () => {
  let daemon: TestDaemon;
  let target: Target;
  let busyboxTar: Buffer;
  let buildContext: Buffer;
  let registry: TestRegistry | undefined;
  let pulled: string;

  before(async () => {
    daemon = await startDaemon();
    target = { socket: daemon.socket };
    busyboxTar = await collect(packBusyboxRootfs());
    const context = pack();
    context.entry({ name: 'Dockerfile' }, 'FROM busybox\nRUN echo built > /built\nCOPY data /data\nCMD ["cat", "/built"]\n');
    context.entry({ name: 'data' }, Buffer.alloc(256 * 1024, 1));
    context.finalize();
    buildContext = await collect(Readable.from(context));
    await daemon.berth(['image', 'busybox']);
    const [a, b] = daemon.network.block.split('.').slice(1, 3).map(Number);
    await createNetwork(target, 'faultnet', `10.${a}.${b + 1}.0/24`);
    // An image of three layers of its own in a registry on loopback, and not here: each pull
    // downloads them, and kills land while they unpack at once and wait for their parents.
    registry = await startRegistry();
    pulled = `${registry.host}/fault/pulled:1`;
    const layers = await Promise.all([0, 1, 2].map((i) => buildTar([{ name: `pulled/${i}`, content: randomBytes(700 * 1024) }])));
    await putImage(registry, 'fault/pulled', '1', layers.map((tar, i) => ({ tar, gzip: i === 0 })));
  });
  after(async () => {
    if (!daemon) return;
    await reapLeftovers(daemon);
    await daemon.stop();
    await removeCgroups(daemon.cgroupParent);
    await registry?.stop();
  });

  test(`${KILLS} kills during create, start, run -d (with volumes), restarts, health checks, stop, rm -f, volume rm, import, load, pull, build, commit and rmi leave nothing half-done`, { timeout: 30 * 60_000 }, async (t) => {
    t.diagnostic(`seed ${SEED} (replay with BERTH_FAULT_SEED=${SEED})`);
    const random = prng(SEED);
    const pick = <T>(items: T[]): T | undefined => items[Math.floor(random() * items.length)];
    const list = async <T>(path: string): Promise<T[]> => JSON.parse((await rawRequest(daemon.socket, 'GET', path)).body) as T[];
    const containers = () => list<{ Id: string; State: string }>('/containers/json?all=1');
    const imported = async () =>
      (await list<{ RepoTags: string[] }>(`/images/json?filters=${encodeURIComponent('{"reference":["imp"]}')}`)).flatMap((i) => i.RepoTags);

    let serial = 0;
    const operations = async (): Promise<Operation[]> => {
      const all = await containers();
      const stopped = all.filter((c) => c.State !== 'running').map((c) => c.Id);
      const running = all.filter((c) => c.State === 'running').map((c) => c.Id);
      const tags = await imported();
      const ops: Operation[] = [
        { name: 'create', windowMs: 60, run: () => createContainer(target, `f${++serial}`) },
        {
          name: 'run -d',
          windowMs: 120,
          run: async () => startContainer(target, await createContainer(target, `f${++serial}`)),
        },
        {
          // Fails three times, 100, 200 and 400 ms apart: kills land in every step of a restart.
          name: 'run -d --restart on-failure:3',
          windowMs: 1200,
          run: async () =>
            startContainer(
              target,
              await createContainer(target, `f${++serial}`, {
                command: ['sh', '-c', 'sleep 0.1; exit 1'],
                restartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
              }),
            ),
        },
        {
          // Its probe runs every second: kills land while probes (exec processes) are under way.
          name: 'run -d --health-cmd',
          windowMs: 400,
          run: async () =>
            startContainer(
              target,
              await createContainer(target, `f${++serial}`, { healthcheck: { Test: ['CMD', 'true'], Interval: 1_000_000_000 } }),
            ),
        },
        {
          // On a network of its own with a published port: kills land in netavark's setup and teardown.
          name: 'run -d --network -p',
          windowMs: 300,
          run: async () => startContainer(target, await createContainer(target, `f${++serial}`, { network: 'faultnet' })),
        },
        { name: 'import', windowMs: 400, run: () => importImage(target, busyboxTar, { repo: 'imp', tag: `t${++serial}` }) },
        { name: 'load', windowMs: 800, run: () => loadImage(target, ++serial) },
        { name: 'pull', windowMs: 300, run: () => pullAndRemove(target, pulled) },
        // Unpacks the context, runs a RUN step in a container, commits it, copies a file.
        { name: 'build', windowMs: 1500, run: () => buildImage(target, buildContext, `imp:b${++serial}`) },
      ];
      ops.push({ name: 'run -d -v', windowMs: 250, run: () => runWithVolumes({ ...target, dataRoot: daemon.dataRoot }, `f${++serial}`) });
      const volume = pick((JSON.parse((await rawRequest(daemon.socket, 'GET', '/volumes')).body) as { Volumes: Array<{ Name: string }> }).Volumes.map((v) => v.Name));
      if (volume) ops.push({ name: 'volume rm', windowMs: 40, run: () => removeVolume(target, volume) });
      const stoppedId = pick(stopped);
      if (stoppedId) ops.push({ name: 'start', windowMs: 80, run: () => startContainer(target, stoppedId) });
      const runningId = pick(running);
      if (runningId) ops.push({ name: 'stop', windowMs: 1500, run: () => stopContainer(target, runningId) });
      const anyId = pick(all.map((c) => c.Id));
      if (anyId) ops.push({ name: 'rm -f', windowMs: 150, run: () => removeContainer(target, anyId) });
      const committed = pick(all.map((c) => c.Id));
      if (committed) ops.push({ name: 'commit', windowMs: 300, run: () => commitContainer(target, committed, { repo: 'imp', tag: `c${++serial}` }) });
      const tag = pick(tags);
      if (tag) ops.push({ name: 'rmi', windowMs: 80, run: () => removeImage(target, tag) });
      return ONLY ? ops.filter((op) => ONLY.includes(op.name)) : ops;
    };

    const tally = new Map<string, number>();
    // A leak stays until the end; it is counted once, at the kill that made it.
    const seen = new Set<string>();
    const failures: string[] = [];
    for (let kill = 1; kill <= KILLS; kill++) {
      const op = pick(await operations())!;
      tally.set(op.name, (tally.get(op.name) ?? 0) + 1);
      const delay = Math.floor(random() * op.windowMs);
      const outcome = op.run().catch(() => undefined);
      await new Promise((r) => setTimeout(r, delay));
      const exited = new Promise((r) => daemon.process.once('exit', r));
      daemon.process.kill('SIGKILL');
      await exited;
      await outcome;
      await daemon.restart();

      const found = await settledViolations(daemon);
      for (const v of found.filter((v) => !seen.has(v))) {
        seen.add(v);
        failures.push(`kill ${kill} (${op.name} after ${delay} ms): ${v}`);
      }
      const code = await runToEnd(target, ['sh', '-c', 'exit 3']).catch((err: Error) => err.message);
      if (code !== 3) failures.push(`kill ${kill} (${op.name} after ${delay} ms): a container no longer runs: ${code}`);

      const all = await containers();
      for (const c of all.slice(MAX_CONTAINERS)) await removeContainer(target, c.Id);
      const tags = await imported();
      for (const tag of tags.slice(3)) await removeImage(target, tag);
    }
    t.diagnostic(`kills per operation: ${JSON.stringify(Object.fromEntries(tally))}`);
    t.diagnostic(`violations: ${failures.length}`);
    assert.deepEqual(failures, [], `seed ${SEED}`);
  });
});
