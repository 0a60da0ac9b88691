/**
 * docker save and docker load of a 100 MiB image (one layer of incompressible data), in MB/s of
 * archive bytes, through the real docker CLI to and from a file. Each load comes after the image
 * was removed, so it stores and unpacks the layer again.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import type { TestDaemon } from '../../test/helpers/berthd.js';
import { DOCKER, installed, percentile, run, RUNS } from '../measure.js';

const IMAGE_BYTES = 100 * 1024 * 1024;
const NAME = 'bench/transfer:1';

export async function imageTransferSection(daemon: TestDaemon): Promise<void> {
  const runs = Math.min(RUNS, 5);
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-transfer-'));
  try {
    const tar = join(dir, 'layer.tar');
    await writeFile(tar, await layerTar());
    await run(DOCKER, ['import', tar, NAME], { env: daemon.env });
    const archive = join(dir, 'saved.tar');
    const engines: Array<[string, string[], NodeJS.ProcessEnv]> = [['berthd (docker CLI)', [DOCKER], daemon.env]];
    if (installed('podman')) {
      const podman = ['podman', '--root', join(dir, 'podman-root'), '--runroot', join(dir, 'podman-run'), '--cgroup-manager=cgroupfs', '--events-backend=file'];
      await run(podman[0]!, [...podman.slice(1), 'import', tar, NAME]);
      engines.push(['podman', podman, process.env]);
    } else {
      console.log('\npodman is not installed here: no Podman figures (Docker needs a dockerd of its own: none here either)');
    }
    console.log(`\nImage transfer: a ${IMAGE_BYTES / 1024 / 1024} MiB image (${runs} runs each, median and worst)`);
    for (const [engine, argv, env] of engines) {
      const cli = (args: string[]) => run(argv[0]!, [...argv.slice(1), ...args], { env });
      const saves: number[] = [];
      const loads: number[] = [];
      for (let i = 0; i < runs; i++) {
        await rm(archive, { force: true });
        saves.push(await timed(() => cli(['save', '-o', archive, NAME])));
        await cli(['rmi', NAME]);
        loads.push(await timed(() => cli(['load', '-q', '-i', archive])));
      }
      const bytes = (await stat(archive)).size;
      for (const [label, times] of [['save -o', saves], ['load -i (after rmi)', loads]] as const) {
        const sorted = [...times].sort((a, b) => a - b);
        const rate = (ms: number) => ((bytes / 1e6) / (ms / 1000)).toFixed(0).padStart(5);
        console.log(`  ${`${engine} ${label}`.padEnd(44)} p50 ${percentile(sorted, 50).toFixed(0).padStart(6)} ms = ${rate(percentile(sorted, 50))} MB/s   worst ${rate(sorted.at(-1)!)} MB/s   (${(bytes / 1e6).toFixed(1)} MB)`);
      }
      await cli(['rmi', NAME]);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function timed(operation: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await operation();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** A layer tar of ten 10 MiB files of random bytes. */
async function layerTar(): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => archive.on('end', resolve));
  const files = 10;
  for (let i = 0; i < files; i++) {
    await new Promise<void>((resolve, reject) => archive.entry({ name: `data/${i}`, mode: 0o644 }, randomBytes(IMAGE_BYTES / files), (err) => (err ? reject(err) : resolve())));
  }
  archive.finalize();
  await ended;
  const tar = Buffer.concat(chunks);
  return tar;
}
