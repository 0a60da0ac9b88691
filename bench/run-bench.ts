/**
 * Start-up latency of a container, end to end as a user sees it: p50 and p90 of
 * `berth run --rm busybox true` and of the docker CLI against berthd, plus Docker and Podman
 * themselves where they are installed. Figures, not assertions.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { BERTH, startDaemon } from '../test/helpers/berthd.js';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const WARMUP = 3;

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

async function measure(label: string, file: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  for (let i = 0; i < WARMUP; i++) await run(file, args, { env });
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    await run(file, args, { env });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(58)} p50 ${percentile(times, 50).toFixed(1).padStart(7)} ms   p90 ${percentile(times, 90).toFixed(1).padStart(7)} ms   (${RUNS} runs)`);
}

function installed(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const daemon = await startDaemon();
try {
  await daemon.berth(['image', 'busybox']);
  await measure('berth run --rm busybox true', process.execPath, [BERTH, 'run', '--rm', 'busybox', 'true'], daemon.env);
  await measure('docker run --rm --network none busybox true (berthd)', '/usr/local/bin/docker', ['run', '--rm', '--network', 'none', 'busybox', 'true'], daemon.env);
  await measure('berth run --rm --runtime runc busybox true', process.execPath, [BERTH, 'run', '--rm', '--runtime', 'runc', 'busybox', 'true'], daemon.env);
} finally {
  await daemon.stop();
}
if (installed('dockerd') && installed('docker')) {
  await measure('docker run --rm --network none busybox true (dockerd)', 'docker', ['run', '--rm', '--network', 'none', 'busybox', 'true'], { ...process.env, DOCKER_HOST: '' });
} else {
  console.log('dockerd is not installed here: no Docker figures');
}
if (installed('podman')) {
  await measure('podman run --rm --network none busybox true', 'podman', ['run', '--rm', '--network', 'none', 'busybox', 'true'], process.env);
} else {
  console.log('podman is not installed here: no Podman figures');
}
