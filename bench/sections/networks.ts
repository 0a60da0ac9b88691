/**
 * Network figures: `run --rm busybox true` on the default bridge against `--network none`, on a
 * user-defined network (name server included) and with a published port; TCP throughput from one
 * container to another on a bridge and from the host to a published port (a bounded transfer on
 * the daemon's own bridge); Docker and Podman beside them where installed.
 */
import { connect } from 'node:net';
import type { TestDaemon } from '../../test/helpers/berthd.js';
import { BERTH } from '../../test/helpers/berthd.js';
import { DOCKER, installed, table, type Case } from '../measure.js';

const TRANSFER_MIB = Number(process.env.BENCH_TRANSFER_MIB ?? 256);
const TRANSFER_ROUNDS = 3;

/** MB/s of TRANSFER_MIB sent to host:port; the sink's listener may be restarting: refused connections are tried again. */
async function send(host: string, port: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await sendOnce(host, port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || attempt > 100) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Writes TRANSFER_MIB and ends; done when the sink (nc, which exits at the end of its input) closes. */
function sendOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20);
    const start = process.hrtime.bigint();
    const socket = connect({ host, port });
    let sent = 0;
    const write = () => {
      while (sent < TRANSFER_MIB) {
        sent++;
        if (!socket.write(chunk)) return void socket.once('drain', write);
      }
      socket.end();
    };
    socket.once('connect', write);
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (hadError) return;
      if (sent < TRANSFER_MIB) return reject(new Error(`the sink closed after ${sent} MiB`));
      resolve((TRANSFER_MIB * 1.048576) / (Number(process.hrtime.bigint() - start) / 1e9));
    });
  });
}

/**
 * A sink on port 5000 inside the container, one connection after another: busybox nc hands each
 * connection to a script that reads it to its end (nc alone quits at the end of its own stdin).
 */
const SINK = "printf '#!/bin/sh\\nexec cat > /dev/null\\n' > /sink && chmod +x /sink && while true; do nc -l -p 5000 -e /sink; done";

export async function networksSection(daemon: TestDaemon): Promise<void> {
  const env = daemon.env;
  const [a, b] = daemon.network.block.split('.').slice(1, 3).map(Number);
  await daemon.berth(['network', 'create', '--subnet', `10.${a}.${b + 1}.0/24`, 'benchnet']);
  const cases: Case[] = [
    { label: 'berth run --rm --network none busybox true', argv: [BERTH, 'run', '--rm', '--network', 'none', 'busybox', 'true'] },
    { label: 'berth run --rm busybox true (default bridge)', argv: [BERTH, 'run', '--rm', 'busybox', 'true'] },
    { label: 'docker run --rm busybox true (CLI → berthd, default bridge)', argv: [DOCKER, 'run', '--rm', 'busybox', 'true'] },
    { label: 'berth run --rm --network benchnet busybox true (DNS)', argv: [BERTH, 'run', '--rm', '--network', 'benchnet', 'busybox', 'true'] },
    { label: 'berth run --rm -p 80 busybox true (a published port)', argv: [BERTH, 'run', '--rm', '-p', '80', 'busybox', 'true'] },
  ];
  if (installed('dockerd')) cases.push({ label: 'docker run --rm busybox true (dockerd)', argv: ['docker', 'run', '--rm', 'busybox', 'true'], env: { ...process.env, DOCKER_HOST: '' } });
  if (installed('podman')) cases.push({ label: 'podman run --rm busybox true', argv: ['podman', 'run', '--rm', 'busybox', 'true'] });
  // A container kept on each network, as on a host in use: the bridges stay up between runs.
  await daemon.berth(['run', '-d', '--name', 'bench-keep-default', 'busybox', 'sleep', '1000000']);
  await daemon.berth(['run', '-d', '--name', 'bench-keep-net', '--network', 'benchnet', 'busybox', 'sleep', '1000000']);
  await table('Run on a network (bridges up: another container on each)', cases, env, false);
  await daemon.berth(['rm', '-f', 'bench-keep-default', 'bench-keep-net']);
  await table('Run with no other container on the default bridge (kept up by the keeper, as docker0 stays up)', cases.slice(0, 3), env, false);

  console.log(`\nTCP throughput, ${TRANSFER_MIB} MiB per transfer, best of ${TRANSFER_ROUNDS}`);
  await daemon.berth(['run', '-d', '--name', 'bench-sink', '--network', 'benchnet', '-p', '127.0.0.1::5000', 'busybox', 'sh', '-c', SINK]);
  const hostPort = Number((await daemon.berth(['port', 'bench-sink', '5000'])).stdout.trim().split(':').pop());
  const sinkIp = (await daemon.berth(['inspect', '-f', '{{.NetworkSettings.Networks.benchnet.IPAddress}}', 'bench-sink'])).stdout.trim();
  for (let i = 0; i < 100 && !(await daemon.berth(['exec', 'bench-sink', 'netstat', '-ltn'])).stdout.includes(':5000 '); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const best = async (measure: () => Promise<number>) => {
    let top = 0;
    for (let i = 0; i < TRANSFER_ROUNDS; i++) top = Math.max(top, await measure());
    return top;
  };
  const hostToPort = await best(() => send('127.0.0.1', hostPort));
  const hostToIp = await best(() => send(sinkIp, 5000));
  await daemon.berth(['run', '-d', '--name', 'bench-source', '--network', 'benchnet', 'busybox', 'sleep', '1000000']);
  const containerToContainer = await best(async () => {
    const started = process.hrtime.bigint();
    await daemon.berth(['exec', 'bench-source', 'sh', '-c', `dd if=/dev/zero bs=1M count=${TRANSFER_MIB} 2>/dev/null | nc bench-sink 5000`]);
    return (TRANSFER_MIB * 1.048576) / (Number(process.hrtime.bigint() - started) / 1e9);
  });
  console.log(`  ${'host → published port (127.0.0.1, DNAT)'.padEnd(60)} ${hostToPort.toFixed(0).padStart(6)} MB/s`);
  console.log(`  ${'host → container address on the bridge'.padEnd(60)} ${hostToIp.toFixed(0).padStart(6)} MB/s`);
  console.log(`  ${'container → container by name (busybox dd | nc, incl. the exec)'.padEnd(60)} ${containerToContainer.toFixed(0).padStart(6)} MB/s`);
  await daemon.berth(['rm', '-f', 'bench-sink', 'bench-source']);
  await daemon.berth(['network', 'rm', 'benchnet']);
}
