/**
 * Registry throughput: pull and push of a 100 MiB image in 3 layers to a local CNCF Distribution
 * registry (Debian's docker-registry, plain HTTP on 127.0.0.1), and a pull where 2 of the 3
 * layers are present already. The image is written into the registry directly (random bytes, so
 * nothing compresses or dedupes); each pull starts from an image store without it, each push
 * goes to an empty registry.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { installed, percentile } from '../measure.js';
import { startRegistry, type TestRegistry } from '../../test/helpers/registry.js';
import { buildTar } from '../../test/unit/archive-fixtures.js';
import type { TestDaemon } from '../../test/helpers/berthd.js';

const MIB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_REGISTRY_RUNS ?? 5);
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function layer(bytes: number, name: string): Promise<Buffer> {
  return buildTar([{ name, type: 'file', mode: 0o644, content: randomFillSync(Buffer.alloc(bytes)) }]);
}

async function putBlob(registry: TestRegistry, repo: string, blob: Buffer): Promise<void> {
  const started = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(started.headers.get('location')!, registry.url);
  location.searchParams.set('digest', sha(blob));
  const put = await fetch(location, { method: "PUT", body: new Uint8Array(blob), headers: { 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
}

/** An image of `layers` (uncompressed tars) at repo:tag; resolves with its total blob bytes. */
async function putImage(registry: TestRegistry, repo: string, tag: string, layers: Buffer[]): Promise<number> {
  for (const blob of layers) await putBlob(registry, repo, blob);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map(sha) }, history: layers.map(() => ({})) }));
  await putBlob(registry, repo, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', size: l.length, digest: sha(l) })),
  });
  const put = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' } });
  if (put.status !== 201) throw new Error(`manifest upload: ${put.status} ${await put.text()}`);
  return layers.reduce((n, l) => n + l.length, 0);
}

/** CPU (user + system, ms) berthd and its reaped children (the extract helpers) have used so far. */
function daemonCpuMs(daemon: TestDaemon): number {
  // Fields after the command's closing parenthesis: utime is the 12th, then stime, cutime, cstime.
  const fields = readFileSync(`/proc/${daemon.process.pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) * 10;
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
    const bytes = await putImage(source, 'bench/big', 'v1', layers);
    const thirdChanged = [layers[0]!, layers[1]!, await layer(25 * MIB, 'd.bin')];
    await putImage(source, 'bench/big', 'v2', thirdChanged);
    const name = `${source.host}/bench/big`;

    const pulls: Timing[] = [];
    for (let i = 0; i < RUNS; i++) {
      pulls.push(await timed(daemon, () => daemon.berth(['pull', '-q', `${name}:v1`])));
      if (i < RUNS - 1) await daemon.berth(['rmi', `${name}:v1`]);
    }
    report('berth pull (cold)', pulls, bytes);

    const partial: Timing[] = [];
    for (let i = 0; i < RUNS; i++) {
      partial.push(await timed(daemon, () => daemon.berth(['pull', '-q', `${name}:v2`])));
      await daemon.berth(['rmi', `${name}:v2`]);
    }
    report('berth pull, 2 of 3 layers present (25 MiB fetched)', partial, thirdChanged[2]!.length);

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
