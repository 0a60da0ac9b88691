/**
 * Volume figures (issue 15): the start latency a container's 5 mounts add (2 named volumes, 2
 * binds, 1 tmpfs) against none, and copy-up of a 100 MiB image folder into a new volume (the run
 * with an anonymous volume over it, minus the same run without).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDaemon } from '../../test/helpers/berthd.js';
import { BERTH } from '../../test/helpers/berthd.js';
import { DOCKER, percentile, run, table } from '../measure.js';

const COPY_UP_MIB = 100;
const COPY_UP_RUNS = Number(process.env.BENCH_COPY_UP_RUNS ?? 5);

/** busybox with /data holding `mib` MiB in 1 MiB files, imported as `image`. */
async function imageWithData(daemon: TestDaemon, host: string, image: string, mib: number): Promise<void> {
  const data = join(host, 'data');
  await mkdir(data);
  for (let i = 0; i < mib; i++) await writeFile(join(data, `f${i}`), Buffer.alloc(1 << 20, i));
  const id = (await daemon.berth(['create', '--network', 'none', '-v', `${data}:/src:ro`, 'busybox', 'cp', '-a', '/src', '/data'])).stdout.trim();
  await daemon.berth(['start', '-a', id]);
  execFileSync('sh', ['-c', `${BERTH} export ${id} | ${BERTH} import - ${image}`], { env: daemon.env, stdio: 'ignore' });
  await daemon.berth(['rm', id]);
}

async function timed(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const start = process.hrtime.bigint();
  await run(argv[0]!, argv.slice(1), { env, maxBuffer: 1 << 20 });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function volumesSection(daemon: TestDaemon): Promise<void> {
  const env = daemon.env;
  const host = await mkdtemp(join(tmpdir(), 'berth-bench-volumes-'));
  try {
    await mkdir(join(host, 'b1'));
    await mkdir(join(host, 'b2'));
    await daemon.berth(['volume', 'create', 'bench-v1']);
    await daemon.berth(['volume', 'create', 'bench-v2']);
    const five = ['-v', 'bench-v1:/v1', '-v', 'bench-v2:/v2', '-v', `${join(host, 'b1')}:/b1`, '-v', `${join(host, 'b2')}:/b2:ro`, '--tmpfs', '/t'];
    const none = ['run', '--rm', '--network', 'none', 'busybox', 'true'];
    const withFive = ['run', '--rm', '--network', 'none', ...five, 'busybox', 'true'];
    await table('Start latency: 5 mounts (2 named volumes, 2 binds, 1 tmpfs) against none', [
      { label: 'berth run --rm (no mounts)', argv: [BERTH, ...none] },
      { label: 'berth run --rm (5 mounts)', argv: [BERTH, ...withFive] },
      { label: 'docker run --rm (no mounts)', argv: [DOCKER, ...none] },
      { label: 'docker run --rm (5 mounts)', argv: [DOCKER, ...withFive] },
    ], env, false);

    await imageWithData(daemon, host, 'bench-copyup', COPY_UP_MIB);
    const plain = [BERTH, 'run', '--rm', '--network', 'none', 'bench-copyup', 'true'];
    const copied = [BERTH, 'run', '--rm', '--network', 'none', '-v', '/data', 'bench-copyup', 'true'];
    const plainTimes: number[] = [];
    const copiedTimes: number[] = [];
    for (let i = 0; i < COPY_UP_RUNS; i++) {
      plainTimes.push(await timed(plain, env));
      copiedTimes.push(await timed(copied, env));
    }
    const p50 = (times: number[]) => percentile([...times].sort((a, b) => a - b), 50);
    console.log(`\nCopy-up of a ${COPY_UP_MIB} MiB image folder into a new anonymous volume (${COPY_UP_RUNS} runs each, interleaved)`);
    console.log(`  ${'berth run --rm (no volume)'.padEnd(52)} p50 ${p50(plainTimes).toFixed(1).padStart(6)} ms`);
    console.log(`  ${'berth run --rm -v /data (copy-up)'.padEnd(52)} p50 ${p50(copiedTimes).toFixed(1).padStart(6)} ms`);
    const copyMs = p50(copiedTimes) - p50(plainTimes);
    console.log(`  ${'copy-up alone'.padEnd(52)} p50 ${copyMs.toFixed(1).padStart(6)} ms (${((COPY_UP_MIB / copyMs) * 1000).toFixed(0)} MiB/s)`);
  } finally {
    await daemon.berth(['rmi', '-f', 'bench-copyup'], { allowFailure: true });
    await daemon.berth(['volume', 'rm', '-f', 'bench-v1', 'bench-v2'], { allowFailure: true });
    await daemon.berth(['volume', 'prune', '-f'], { allowFailure: true });
    await rm(host, { recursive: true, force: true });
  }
}
