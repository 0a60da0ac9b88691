/**
 * Registry throughput: pull and push of a 100 MiB image in 3 layers to a local CNCF Distribution
 * registry (Debian's docker-registry, plain HTTP on 127.0.0.1), and a pull where 2 of the 3
 * layers are present already. The image is written into the registry directly (random bytes, so
 * nothing compresses or dedupes); each pull starts from an image store without it, each push
 * goes to an empty registry. BENCH_PULL_TIMELINE=N adds N pulls of each kind through the API,
 * printing when each layer's download, unpacking and registration ended (see pullTimeline).
 */
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { installed, percentile } from '../measure.js';
import { putImage, startRegistry } from '../../test/helpers/registry.js';
import { buildTar } from '../../test/unit/archive-fixtures.js';
import type { TestDaemon } from '../../test/helpers/berthd.js';

const MIB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_REGISTRY_RUNS ?? 5);

async function layer(bytes: number, name: string): Promise<Buffer> {
  return buildTar([{ name, type: 'file', mode: 0o644, content: randomFillSync(Buffer.alloc(bytes)) }]);
}

/** CPU (user + system, ms) berthd and its reaped children (the extract helpers) have used so far. */
function daemonCpuMs(daemon: TestDaemon): number {
  // Fields after the command's closing parenthesis: utime is the 12th, then stime, cutime, cstime.
  const fields = readFileSync(`/proc/${daemon.process.pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) * 10;
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
}

async function timed(daemon: TestDaemon, work: () => Promise<unknown>): Promise<Timing> {
  const cpu = daemonCpuMs(daemon);
  const start = process.hrtime.bigint();
  await work();
  return { wallMs: Number(process.hrtime.bigint() - start) / 1e6, cpuMs: daemonCpuMs(daemon) - cpu };
}

function report(label: string, timings: Timing[], bytes: number): void {
  const sorted = timings.map((t) => t.wallMs).sort((a, b) => a - b);
  const cpu = timings.map((t) => t.cpuMs).sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  console.log(
    `  ${label.padEnd(52)} p50 ${p50.toFixed(0).padStart(6)} ms   ${(bytes / MIB / (p50 / 1000)).toFixed(0).padStart(5)} MiB/s   (best ${(bytes / MIB / (sorted[0]! / 1000)).toFixed(0)} MiB/s)   berthd cpu p50 ${percentile(cpu, 50).toFixed(0)} ms`,
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
      pulls.push(await timed(daemon, () => daemon.berth(['pull', '-q', `${name}:v1`])));
      if (i < RUNS - 1) await daemon.berth(['rmi', `${name}:v1`]);
    }
    report('berth pull (cold)', pulls, bytes);
    for (let i = 0; i < Number(process.env.BENCH_PULL_TIMELINE ?? 0); i++) {
      await daemon.berth(['rmi', `${name}:v1`]);
      console.log(`    timeline (ms): ${await pullTimeline(daemon, `${name}:v1`)}`);
    }

    const partial: Timing[] = [];
    for (let i = 0; i < RUNS; i++) {
      partial.push(await timed(daemon, () => daemon.berth(['pull', '-q', `${name}:v2`])));
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
        pushes.push(await timed(daemon, () => daemon.berth(['push', '-q', pushed])));
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
