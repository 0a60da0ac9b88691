import { readFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';

/** Raw HTTP against the daemon, for inputs no client would send. */
export function rawRequest(
  socket: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, headers: res.headers }));
      // A daemon gone mid-answer (kill -9 under a streamed pull) closes the response without an
      // 'error' unless one is listened for; either way the request must settle.
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(new Error(`${method} ${path}: the connection closed before the answer ended`));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Mounts left under `dir`, after giving berthd up to `graceMs` to finish: a removed container's
 * layer is unmounted and deleted in the background, just after the API reports the removal.
 */
export async function mountsUnder(dir: string, graceMs = 3000): Promise<string[]> {
  const read = async () => (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((l) => l.includes(dir));
  for (const end = Date.now() + graceMs; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) {
    if ((await read()).length === 0) return [];
  }
  return read();
}
