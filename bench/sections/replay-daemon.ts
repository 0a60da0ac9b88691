/**
 * A stand-in daemon that answers `/_ping` and one recorded `GET /containers/json` from memory, on
 * its own unix socket: `docker ps` against it costs what the docker CLI alone spends on that
 * answer, the floor under `docker ps` against berthd.
 */
import { request, createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ReplayDaemon {
  host: string;
  close(): Promise<void>;
}

/** The body and content type berthd answers GET `path` with. */
export function record(socketPath: string, path: string): Promise<{ body: Buffer; type: string }> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ body: Buffer.concat(chunks), type: res.headers['content-type'] ?? 'application/json' }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

export async function replayContainerList(answer: { body: Buffer; type: string }): Promise<ReplayDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-replay-'));
  const socket = join(dir, 'replay.sock');
  const server: Server = createServer((req, res) => {
    const headers = { 'Api-Version': '1.50', Ostype: 'linux', 'Docker-Experimental': 'false' };
    if (req.url?.startsWith('/_ping')) {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
    } else if (req.url?.includes('/containers/json')) {
      res.writeHead(200, { ...headers, 'Content-Type': answer.type, 'Content-Length': answer.body.length });
      res.end(answer.body);
    } else {
      res.writeHead(404, { ...headers, 'Content-Type': 'application/json' });
      res.end('{"message":"not recorded"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    host: `unix://${socket}`,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
