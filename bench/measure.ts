/**
 * How the bench measures: the commands of one table run in turn (A B C A B C …), so a machine that
 * slows down or speeds up during the run weighs on all of them alike. CPU per call is the
 * user+system time the kernel charged to the calls, read with the shell's `times` after a loop.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const WARMUP = 3;
export const DOCKER = '/usr/local/bin/docker';

export interface Case {
  label: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

export function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export async function wallTimes(cases: Case[], env: NodeJS.ProcessEnv): Promise<number[][]> {
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
export async function cpuPerCall(c: Case, env: NodeJS.ProcessEnv): Promise<number> {
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

export async function table(title: string, cases: Case[], env: NodeJS.ProcessEnv, withCpu = true): Promise<void> {
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

export function installed(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

