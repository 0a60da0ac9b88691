/**
 * Figures, not assertions: what a CLI call costs as a user sees it, `berth` side by side with the
 * docker CLI against the same berthd, with `node -e 0` as the floor no Node program can go below;
 * then container start-up, and Docker and Podman themselves where they are installed.
 *
 * The commands of one table run in turn (A B C A B C …), so a machine that slows down or speeds up
 * during the run weighs on all of them alike. CPU per call is the user+system time the kernel
 * charged to the calls, read with the shell's `times` after a loop of them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { BERTH, startDaemon } from '../test/helpers/berthd.js';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const WARMUP = 3;
const DOCKER = '/usr/local/bin/docker';
const CONTAINERS = 200;
const STATS_CONTAINERS = 20;

interface Case {
  label: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

async function wallTimes(cases: Case[], env: NodeJS.ProcessEnv): Promise<number[][]> {
  const once = async (c: Case) => {
    const start = process.hrtime.bigint();
    await run(c.argv[0]!, c.argv.slice(1), { env: c.env ?? env, maxBuffer: 64 << 20 });
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  for (let i = 0; i < WARMUP; i++) for (const c of cases) await once(c);
  const times = cases.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) for (const [n, c] of cases.entries()) times[n]!.push(await once(c));
  return times.map((t) => t.sort((a, b) => a - b));
}

/** Milliseconds of CPU (user + system) per call, over `RUNS` calls in a shell loop. */
async function cpuPerCall(c: Case, env: NodeJS.ProcessEnv): Promise<number> {
  const quoted = c.argv.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `i=0; while [ $i -lt ${RUNS} ]; do ${quoted} >/dev/null 2>&1; i=$((i+1)); done; times`;
  const { stdout } = await run('sh', ['-c', script], { env: c.env ?? env });
  // `times` prints the shell's own times, then its children's: "0m1.234s 0m0.567s".
  const children = stdout.trim().split('\n').at(-1)!.match(/(\d+)m([\d.]+)s/g)!;
  const seconds = children.map((field) => {
    const [, minutes, secs] = /(\d+)m([\d.]+)s/.exec(field)!;
    return Number(minutes) * 60 + Number(secs);
  });
  return ((seconds[0]! + seconds[1]!) * 1000) / RUNS;
}

async function table(title: string, cases: Case[], env: NodeJS.ProcessEnv, withCpu = true): Promise<void> {
  console.log(`\n${title} (${RUNS} runs each, interleaved)`);
  const times = await wallTimes(cases, env);
  for (const [n, c] of cases.entries()) {
    const cpu = withCpu ? `   cpu/call ${(await cpuPerCall(c, env)).toFixed(1).padStart(6)} ms` : '';
    const t = times[n]!;
    console.log(
      `  ${c.label.padEnd(52)} p50 ${percentile(t, 50).toFixed(1).padStart(6)} ms   p90 ${percentile(t, 90).toFixed(1).padStart(6)} ms${cpu}`,
    );
  }
}

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

function installed(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const withoutExtraCerts = { ...process.env };
delete withoutExtraCerts.NODE_EXTRA_CA_CERTS;

const daemon = await startDaemon();
try {
  const env = daemon.env;
  await daemon.berth(['image', 'busybox']);
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
  await table(`Listing ${CONTAINERS} containers`, [
    { label: 'berth ps -a', argv: [BERTH, 'ps', '-a'] },
    { label: 'docker ps -a', argv: [DOCKER, 'ps', '-a'] },
  ], env);
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
} finally {
  await daemon.stop();
}

const others: Case[] = [];
if (installed('dockerd') && installed('docker')) {
  others.push({ label: 'docker run (dockerd)', argv: ['docker', 'run', '--rm', '--network', 'none', 'busybox', 'true'], env: { ...process.env, DOCKER_HOST: '' } });
} else {
  console.log('\ndockerd is not installed here: no Docker figures');
}
if (installed('podman')) {
  others.push({ label: 'podman run', argv: ['podman', 'run', '--rm', '--network', 'none', 'busybox', 'true'] });
} else {
  console.log('podman is not installed here: no Podman figures');
}
if (others.length > 0) await table('Other engines', others, process.env, false);
