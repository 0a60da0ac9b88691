/**
 * The CLI and container figures: client start-up (berth beside the docker CLI, `node -e 0` as the
 * floor no Node program can go below), listing, start-up, batches of detached runs, exec and stats.
 */
import type { TestDaemon } from '../../test/helpers/berthd.js';
import { BERTH } from '../../test/helpers/berthd.js';
import { DOCKER, percentile, RUNS, run, table, type Case } from '../measure.js';
import { record, replayContainerList } from './replay-daemon.js';

const CONTAINERS = 200;
const STATS_CONTAINERS = 20;

const BATCH = 20;
const BATCH_WORKERS = 4;
const BATCH_ROUNDS = Number(process.env.BENCH_BATCH_ROUNDS ?? 5);

/** `BATCH` detached containers started by `BATCH_WORKERS` clients at once, then removed by one `rm -f`. */
async function runBatch(cli: string, env: NodeJS.ProcessEnv): Promise<{ runMs: number; rmMs: number }> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next++ < BATCH) {
      const { stdout } = await run(cli, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '1000000'], { env });
      ids.push(stdout.trim());
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: BATCH_WORKERS }, worker));
  const started = process.hrtime.bigint();
  await run(cli, ['rm', '-f', ...ids], { env });
  const end = process.hrtime.bigint();
  return { runMs: Number(started - start) / 1e6, rmMs: Number(end - started) / 1e6 };
}

const withoutExtraCerts = { ...process.env };
delete withoutExtraCerts.NODE_EXTRA_CA_CERTS;

export async function containersSection(daemon: TestDaemon): Promise<void> {
  const env = daemon.env;
  const floor: Case[] = [{ label: 'node -e 0', argv: [process.execPath, '-e', '0'] }];
  if (process.env.NODE_EXTRA_CA_CERTS) {
    floor.push({ label: 'node -e 0 (NODE_EXTRA_CA_CERTS unset)', argv: [process.execPath, '-e', '0'], env: withoutExtraCerts });
  }
  await table('Client start-up', [
    ...floor,
    { label: 'berth --version', argv: [BERTH, '--version'] },
    { label: 'docker --version', argv: [DOCKER, '--version'] },
    { label: 'berth version', argv: [BERTH, 'version'] },
    { label: 'node bin/berth version (no snapshot)', argv: [process.execPath, BERTH, 'version'] },
    { label: 'docker version', argv: [DOCKER, 'version'] },
  ], env);

  for (let i = 0; i < CONTAINERS; i += 10) {
    await Promise.all(Array.from({ length: 10 }, () => run(BERTH, ['create', 'busybox', 'true'], { env })));
  }
  // berthd's own share: the list request alone, timed from inside this process, so no client start counts.
  const answerTimes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    await record(daemon.socket, '/v1.50/containers/json?all=1');
    answerTimes.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const answerP50 = percentile(answerTimes.sort((a, b) => a - b), 50);
  console.log(`\nberthd's answer to GET /containers/json?all=1 (${CONTAINERS} containers, no client start)  p50 ${answerP50.toFixed(1)} ms`);
  // The docker CLI's own share: the same answer served from memory by a stand-in daemon.
  const replay = await replayContainerList(await record(daemon.socket, '/v1.50/containers/json?all=1'));
  try {
    await table(`Listing ${CONTAINERS} containers`, [
      { label: 'berth ps -a', argv: [BERTH, 'ps', '-a'] },
      { label: 'docker ps -a', argv: [DOCKER, 'ps', '-a'] },
      { label: 'docker ps -a (berthd\'s answer replayed from memory)', argv: [DOCKER, '-H', replay.host, 'ps', '-a'] },
    ], env);
  } finally {
    await replay.close();
  }
  const ids = (await daemon.berth(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  await daemon.berth(['rm', ...ids]);

  await table('Container start-up', [
    { label: 'berth run --rm --network none busybox true', argv: [BERTH, 'run', '--rm', '--network', 'none', 'busybox', 'true'] },
    { label: 'docker run --rm --network none busybox true', argv: [DOCKER, 'run', '--rm', '--network', 'none', 'busybox', 'true'] },
    { label: 'berth run --rm --runtime runc busybox true', argv: [BERTH, 'run', '--rm', '--runtime', 'runc', 'busybox', 'true'] },
  ], env, false);

  console.log(`\n${BATCH} × run -d, ${BATCH_WORKERS} at a time, then one rm -f of the ${BATCH} (${BATCH_ROUNDS} rounds each, interleaved)`);
  const batches = { berth: { run: [] as number[], rm: [] as number[] }, docker: { run: [] as number[], rm: [] as number[] } };
  for (let round = 0; round < BATCH_ROUNDS; round++) {
    for (const [name, cli] of [['berth', BERTH], ['docker', DOCKER]] as const) {
      const { runMs, rmMs } = await runBatch(cli, env);
      batches[name].run.push(runMs);
      batches[name].rm.push(rmMs);
    }
  }
  for (const [name, { run: runs, rm: rms }] of Object.entries(batches)) {
    const p50 = (t: number[]) => percentile([...t].sort((a, b) => a - b), 50).toFixed(0).padStart(6);
    console.log(`  ${`${name} run -d × ${BATCH}`.padEnd(52)} p50 ${p50(runs)} ms   then rm -f p50 ${p50(rms)} ms`);
  }

  await daemon.berth(['run', '-d', '--name', 'bench-exec', '--network', 'none', 'busybox', 'sleep', '1000000']);
  await table('exec in a running container', [
    { label: 'berth exec bench-exec true', argv: [BERTH, 'exec', 'bench-exec', 'true'] },
    { label: 'docker exec bench-exec true', argv: [DOCKER, 'exec', 'bench-exec', 'true'] },
  ], env);
  for (let i = 1; i < STATS_CONTAINERS; i++) await daemon.berth(['run', '-d', '--network', 'none', 'busybox', 'sleep', '1000000']);
  // Each answer is two samples a second apart (as dockerd's): the figure is that second plus the cost of 20 containers.
  await table(`stats --no-stream with ${STATS_CONTAINERS} running containers`, [
    { label: 'berth stats --no-stream', argv: [BERTH, 'stats', '--no-stream'] },
    { label: 'docker stats --no-stream', argv: [DOCKER, 'stats', '--no-stream'] },
  ], env, false);
  await daemon.berth(['rm', '-f', ...(await daemon.berth(['ps', '-q'])).stdout.split('\n').filter(Boolean)]);
}
