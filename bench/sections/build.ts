/**
 * Build (issue 19): the reference Dockerfile (FROM busybox; five RUN steps each writing
 * 1 MiB; COPY of a 10 MiB file) built cold (--no-cache) and fully cached, through the docker
 * CLI's classic builder (DOCKER_BUILDKIT=0) and through `berth build`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, type TestDaemon } from '../../test/helpers/berthd.js';
import { DOCKER, percentile, run } from '../measure.js';

const RUNS = Number(process.env.BENCH_BUILD_RUNS ?? 5);

const DOCKERFILE = [
  'FROM busybox',
  ...[1, 2, 3, 4, 5].map((i) => `RUN head -c 1048576 /dev/urandom > /r${i}`),
  'COPY big.bin /big.bin',
].join('\n');

async function timed(operation: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await operation();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function line(label: string, times: number[], target: number): void {
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`  ${label.padEnd(44)} p50 ${percentile(sorted, 50).toFixed(1).padStart(7)} ms   min ${sorted[0]!.toFixed(1).padStart(7)} ms   (target ≤ ${target} ms)`);
}

export async function buildSection(daemon: TestDaemon): Promise<void> {
  console.log(`\nBuild: the reference Dockerfile (5 RUN × 1 MiB, COPY 10 MiB), ${RUNS} runs each`);
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-build-'));
  try {
    await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
    await writeFile(join(dir, 'big.bin'), randomBytes(10 * 1024 * 1024));
    const env = { ...daemon.env, DOCKER_BUILDKIT: '0' };
    const clients = [
      ['docker build', DOCKER],
      ['berth build', BERTH],
    ] as const;
    for (const [name, client] of clients) {
      const build = (...flags: string[]) => run(client, ['build', '-q', ...flags, '-t', 'bench-build', dir], { env });
      const cold: number[] = [];
      for (let i = 0; i < RUNS; i++) cold.push(await timed(() => build('--no-cache')));
      line(`${name} --no-cache (cold)`, cold, 1000);
      const cached: number[] = [];
      for (let i = 0; i < RUNS; i++) cached.push(await timed(() => build()));
      line(`${name} (fully cached)`, cached, 100);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
