/**
 * A registry that misbehaves on purpose, for the faults a real one will not produce on demand: a
 * blob whose bytes do not match its digest, a stall mid-blob, a 500, an oversized or malformed
 * manifest. It serves one image (one layer tar, its config, a Docker v2 manifest) at test/img:latest
 * and records what it was asked. Plain HTTP on 127.0.0.1, a free port.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { buildTar } from '../unit/archive-fixtures.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface FaultRegistry {
  host: string;
  layer: Buffer;
  layerDigest: string;
  manifestDigest: string;
  /** What the next requests get; change between pulls. */
  faults: {
    corruptLayer?: boolean;
    /** The layer's bytes replaced by as many random ones: no tar at all, and not its digest. */
    garbageLayer?: boolean;
    /** Send this many bytes of the layer, then hold the connection open with nothing more. */
    stallLayerAfter?: number;
    /** Send this many bytes of the layer, then close the connection. */
    cutLayerAfter?: number;
    manifestStatus?: number;
    manifestBody?: Buffer;
    /** Send the layer in 8 pieces this many ms apart. */
    slowLayerMs?: number;
  };
  /** Range headers of the layer GETs, in order ("" for none). */
  layerRanges: string[];
  /** Connections to the layer that the client closed before the end. */
  layerAborts: number;
  stop(): Promise<void>;
}

export async function startFaultRegistry(layerBytes = 256 * 1024): Promise<FaultRegistry> {
  // Random content, so that the blob is the size asked for and shares nothing with other layers.
  const random = Buffer.alloc(layerBytes);
  for (let i = 0; i < layerBytes; i += 4) random.writeUInt32LE((Math.random() * 0xffffffff) >>> 0, i);
  const layer = await buildTar([{ name: 'data.bin', type: 'file', mode: 0o644, content: random }]);
  const layerDigest = sha(layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/data.bin'] }, rootfs: { type: 'layers', diff_ids: [layerDigest] }, history: [{}] }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', size: layer.length, digest: layerDigest }],
    }),
  );
  const sockets = new Set<Socket>();
  const registry: Omit<FaultRegistry, 'host' | 'stop'> = { layer, layerDigest, manifestDigest: sha(manifest), faults: {}, layerRanges: [], layerAborts: 0 };
  const server = http.createServer((req, res): void => {
    const url = req.url ?? '';
    const { faults } = registry;
    if (url === '/v2/') return void res.end('{}');
    if (url.startsWith('/v2/test/img/manifests/')) {
      if (faults.manifestStatus) {
        res.writeHead(faults.manifestStatus, { 'Content-Type': 'application/json' });
        return void res.end('{"errors":[{"code":"UNKNOWN","message":"unknown error"}]}');
      }
      const body = faults.manifestBody ?? manifest;
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json', 'Content-Length': body.length, 'Docker-Content-Digest': sha(body) });
      return void res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (url === `/v2/test/img/blobs/${sha(config)}`) return void res.end(config);
    if (url === `/v2/test/img/blobs/${layerDigest}`) {
      const range = req.headers.range ?? '';
      registry.layerRanges.push(range);
      const start = Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0);
      let body = layer.subarray(start);
      if (faults.corruptLayer) body = Buffer.from(body.map((b, i) => (i === body.length - 1 ? b ^ 0xff : b)));
      if (faults.garbageLayer) body = randomBytes(body.length);
      res.on('close', () => {
        if (!res.writableFinished) registry.layerAborts++;
      });
      res.writeHead(start > 0 ? 206 : 200, { 'Content-Length': body.length, 'Content-Type': 'application/octet-stream', ...(start > 0 ? { 'Content-Range': `bytes ${start}-${layer.length - 1}/${layer.length}` } : {}) });
      if (faults.stallLayerAfter !== undefined) return void res.write(body.subarray(0, faults.stallLayerAfter));
      if (faults.cutLayerAfter !== undefined) return void res.write(body.subarray(0, faults.cutLayerAfter), () => res.socket?.destroy());
      if (faults.slowLayerMs !== undefined) {
        const piece = Math.ceil(body.length / 8);
        let sent = 0;
        const next = () => {
          if (res.destroyed) return;
          if (sent >= body.length) return void res.end();
          res.write(body.subarray(sent, sent + piece));
          sent += piece;
          setTimeout(next, faults.slowLayerMs);
        };
        return next();
      }
      return void res.end(body);
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    ...registry,
    get faults() {
      return registry.faults;
    },
    set faults(value) {
      registry.faults = value;
    },
    get layerRanges() {
      return registry.layerRanges;
    },
    get layerAborts() {
      return registry.layerAborts;
    },
    host: `127.0.0.1:${port}`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
