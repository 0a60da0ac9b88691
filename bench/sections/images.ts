/**
 * Images (issue 14): commit of a container with a 100 MiB diff, and `docker diff` of a container
 * that changed 10,000 files, through the docker CLI and straight through the API.
 */
import { request } from 'node:http';
import type { TestDaemon } from '../../test/helpers/berthd.js';
import { DOCKER, percentile, run } from '../measure.js';

const COMMIT_RUNS = Number(process.env.BENCH_COMMIT_RUNS ?? 7);
const DIFF_RUNS = Number(process.env.BENCH_DIFF_RUNS ?? 10);

function post(socket: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method: 'POST', path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => {
        if (res.statusCode !== 201) reject(new Error(`commit answered ${res.statusCode}: ${body}`));
        else resolve(JSON.parse(body).Id as string);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function timed<T>(operation: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await operation();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

function line(label: string, times: number[], extra = ''): void {
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`  ${label.padEnd(52)} p50 ${percentile(sorted, 50).toFixed(1).padStart(7)} ms   min ${sorted[0]!.toFixed(1).padStart(7)} ms${extra}`);
}

export async function imagesSection(daemon: TestDaemon): Promise<void> {
  const docker = (...args: string[]) => run(DOCKER, args, { env: daemon.env, maxBuffer: 64 << 20 });
  console.log(`\nImages: commit and diff (${COMMIT_RUNS} commits, ${DIFF_RUNS} diffs each; targets: commit ≤ 400 ms)`);

  // 100 MiB in 100 files of 1 MiB, written once; every commit packs and stores the same diff.
  await docker('run', '--name', 'bench-commit', '--network', 'none', 'busybox', 'sh', '-c',
    'mkdir /big && i=0; while [ $i -lt 100 ]; do head -c 1048576 /dev/urandom > /big/f$i; i=$((i+1)); done');
  for (const [label, commit] of [
    ['docker commit (stopped, 100 MiB diff)', async () => (await docker('commit', 'bench-commit')).stdout.trim()],
    ['POST /commit (stopped, 100 MiB diff)', () => post(daemon.socket, '/v1.50/commit?container=bench-commit')],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < COMMIT_RUNS; i++) {
      const { ms, value: id } = await timed(commit);
      times.push(ms);
      await docker('rmi', id);
    }
    line(label, times, `   ${((100 * 1024) / percentile([...times].sort((a, b) => a - b), 50)).toFixed(0)} MiB/s`);
  }
  await docker('rm', 'bench-commit');

  await docker('run', '-d', '--name', 'bench-diff', '--network', 'none', 'busybox', 'sh', '-c',
    'd=0; while [ $d -lt 100 ]; do mkdir -p /many/d$d; f=0; while [ $f -lt 100 ]; do echo x > /many/d$d/f$f; f=$((f+1)); done; d=$((d+1)); done; touch /done; sleep 3600');
  for (let i = 0; i < 600 && !(await docker('diff', 'bench-diff')).stdout.includes('/done'); i++) await new Promise((r) => setTimeout(r, 100));
  const times: number[] = [];
  let lines = 0;
  for (let i = 0; i < DIFF_RUNS; i++) {
    const { ms, value } = await timed(() => docker('diff', 'bench-diff'));
    times.push(ms);
    lines = value.stdout.split('\n').length - 1;
  }
  line(`docker diff (running, ${lines} entries)`, times);
  await docker('rm', '-f', 'bench-diff');
}
