/**
 * Registry throughput: pull and push of a 100 MiB image in 3 layers to a local CNCF Distribution
 * registry (Debian's docker-registry, plain HTTP on 127.0.0.1), and a pull where 2 of the 3
 * layers are present already. The image is written into the registry directly (random bytes, so
 * nothing compresses or dedupes); each pull starts from an image store without it, each push
 * goes to an empty registry. The timed commands run `berth` as it is installed (bin/berth, from
 * its startup snapshot), as the containers section times it, not `node bin/berth`, which loads
 * the CLI's modules first (about 150 ms more per call). BENCH_PULL_TIMELINE=N adds N pulls of each kind through the API,
 * printing when each layer's download, unpacking and registration ended (see pullTimeline).
 */
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { installed, percentile, run } from '../measure.js';
import { putImage, startRegistry } from '../../test/helpers/registry.js';
import { buildTar } from '../../test/unit/archive-fixtures.js';
import { BERTH, type TestDaemon } from '../../test/helpers/berthd.js';

const MIB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_REGISTRY_RUNS ?? 5);

async function layer(bytes: number, name: string): Promise<Buffer> {
  return buildTar([{ name, type: 'file', mode: 0o644, content: randomFillSync(Buffer.alloc(bytes)) }]);
}

/** CPU (user + system, ms) a process (berthd, the registry) and its reaped children (berthd's extract helpers) have used so far. */
function cpuMs(pid: number): number {
  // Fields after the command's closing parenthesis: utime is the 12th, then stime, cutime, cstime.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) * 10;
}

/** One timed `berth` call, as a user runs it. */
function berth(daemon: TestDaemon, args: string[]): () => Promise<unknown> {
  return () => run(BERTH, args, { env: daemon.env });
}

/**
 * One pull through the API, its progress lines timed as they arrive: when each layer's download,
 * unpacking ("Extracting", first and last) and registration ("Pull complete") ended, in ms from
 * the request. Where a pull's time goes, under the noise of a loaded machine.
 */
async function pullTimeline(daemon: TestDaemon, name: string): Promise<string> {
  const start = performance.now();
  const events: Array<{ at: number; status: string; id?: string }> = [];
  await new Promise<void>((resolve, reject) => {
    const query = new URLSearchParams({ fromImage: name });
    const req = request({ socketPath: daemon.socket, method: 'POST', path: `/v1.50/images/create?${query}` }, (res) => {
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = performance.now() - start;
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines.filter(Boolean)) {
          const message = JSON.parse(line) as { status?: string; id?: string; error?: string };
          if (message.error) reject(new Error(message.error));
          events.push({ at, status: message.status ?? '', id: message.id });
        }
      });
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  const ms = (at: number | undefined) => (at === undefined ? '-' : at.toFixed(0));
  const layers = [...new Set(events.filter((e) => e.status === 'Pulling fs layer').map((e) => e.id!))];
  const parts = layers.map((id) => {
    const of = events.filter((e) => e.id === id);
    const first = (status: string) => of.find((e) => e.status === status)?.at;
    const last = (status: string) => of.filter((e) => e.status === status).at(-1)?.at;
    return `${id.slice(0, 4)}: downloaded ${ms(first('Download complete'))}, extracting ${ms(first('Extracting'))}–${ms(last('Extracting'))}, complete ${ms(first('Pull complete'))}`;
  });
  const layersFrom = events.find((e) => e.status === 'Pulling fs layer')?.at;
  const recorded = events.find((e) => e.status.startsWith('Digest:'))?.at;
  return `layers from ${ms(layersFrom)}; ${parts.join('; ')}; image recorded ${ms(recorded)}; end ${ms(performance.now() - start)}`;
}

interface Timing {
  wallMs: number;
  cpuMs: number;
  /** The CPU of the registry pushed to, for pushes. */
  registryCpuMs?: number;
}

async function timed(daemon: TestDaemon, work: () => Promise<unknown>, registryPid?: number): Promise<Timing> {
  const cpu = cpuMs(daemon.process.pid!);
  const registryCpu = registryPid === undefined ? 0 : cpuMs(registryPid);
  const start = process.hrtime.bigint();
  await work();
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { wallMs, cpuMs: cpuMs(daemon.process.pid!) - cpu, registryCpuMs: registryPid === undefined ? undefined : cpuMs(registryPid) - registryCpu };
}

/** Throughput in the issue's unit (decimal MB/s) and in MiB/s. */
const rate = (bytes: number, ms: number) => `${(bytes / 1e6 / (ms / 1000)).toFixed(0).padStart(4)} MB/s = ${(bytes / MIB / (ms / 1000)).toFixed(0).padStart(4)} MiB/s`;

function report(label: string, timings: Timing[], bytes: number): void {
  const p50Of = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);
  const walls = timings.map((t) => t.wallMs).sort((a, b) => a - b);
  const p50 = percentile(walls, 50);
  const registry = timings.every((t) => t.registryCpuMs !== undefined) ? `, registry cpu p50 ${p50Of(timings.map((t) => t.registryCpuMs!)).toFixed(0)} ms` : '';
  console.log(
    `  ${label.padEnd(52)} p50 ${p50.toFixed(0).padStart(6)} ms   ${rate(bytes, p50)}   (best ${rate(bytes, walls[0]!).trim()})   berthd cpu p50 ${p50Of(timings.map((t) => t.cpuMs)).toFixed(0)} ms${registry}`,
  );
}

export async function distributionSection(daemon: TestDaemon): Promise<void> {
  console.log(`\nDistribution: 100 MiB image in 3 layers, local registry on 127.0.0.1 (${RUNS} runs each)`);
  const source = await startRegistry();
  try {
    const layers = [await layer(40 * MIB, 'a.bin'), await layer(35 * MIB, 'b.bin'), await layer(25 * MIB, 'c.bin')];
    const bytes = await putImage(source, 'bench/big', 'v1', layers.map((tar) => ({ tar })));
    const thirdChanged = [layers[0]!, layers[1]!, await layer(25 * MIB, 'd.bin')];
    await putImage(source, 'bench/big', 'v2', thirdChanged.map((tar) => ({ tar })));
    const name = `${source.host}/bench/big`;

    const pulls: Timing[] = [];
    for (let i = 0; i < RUNS; i++) {
      pulls.push(await timed(daemon, berth(daemon, ['pull', '-q', `${name}:v1`])));
      if (i < RUNS - 1) await daemon.berth(['rmi', `${name}:v1`]);
    }
    report('berth pull (cold)', pulls, bytes);
    for (let i = 0; i < Number(process.env.BENCH_PULL_TIMELINE ?? 0); i++) {
      await daemon.berth(['rmi', `${name}:v1`]);
      console.log(`    timeline (ms): ${await pullTimeline(daemon, `${name}:v1`)}`);
    }

    const partial: Timing[] = [];
    for (let i = 0; i < RUNS; i++) {
      partial.push(await timed(daemon, berth(daemon, ['pull', '-q', `${name}:v2`])));
      await daemon.berth(['rmi', `${name}:v2`]);
    }
    report('berth pull, 2 of 3 layers present (25 MiB fetched)', partial, thirdChanged[2]!.length);
    for (let i = 0; i < Number(process.env.BENCH_PULL_TIMELINE ?? 0); i++) {
      console.log(`    timeline (ms): ${await pullTimeline(daemon, `${name}:v2`)}`);
      await daemon.berth(['rmi', `${name}:v2`]);
    }

    const pushes: Timing[] = [];
    for (let i = 0; i < RUNS; i++) {
      const target = await startRegistry();
      try {
        const pushed = `${target.host}/bench/big:v1`;
        await daemon.berth(['tag', `${name}:v1`, pushed]);
        pushes.push(await timed(daemon, berth(daemon, ['push', '-q', pushed]), target.pid));
        await daemon.berth(['rmi', pushed]);
      } finally {
        await target.stop();
      }
    }
    report('berth push (to an empty registry)', pushes, bytes);
    await daemon.berth(['rmi', `${name}:v1`]);
  } finally {
    await source.stop();
  }
  for (const engine of ['dockerd', 'podman']) if (!installed(engine)) console.log(`  ${engine} is not installed here: no figures for it`);
}
