/**
 * Keeps a second berthd off a data root in use. The lock is an abstract unix socket named after
 * the data root's device and inode: binding it is exclusive, and the kernel releases it when the
 * holder dies, even by SIGKILL, so there is nothing stale to clean up (a pidfile can be left
 * behind, deleted, or named differently by the second daemon). The holder answers a connection
 * with its pid, for the message the refused daemon prints.
 */
import { createConnection, createServer, type Server } from 'node:net';
import { stat } from 'node:fs/promises';
import { unavailable } from '../common/errors.js';

async function holderPid(name: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection(name);
    let text = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('data', (chunk) => (text += chunk.toString('utf8')));
    socket.on('close', () => resolve(text.trim() || 'unknown'));
    socket.on('error', () => socket.destroy());
  });
}

/** Takes the lock on `dataRoot` (which must exist); the returned function releases it. */
export async function lockDataRoot(dataRoot: string): Promise<() => Promise<void>> {
  const { dev, ino } = await stat(dataRoot);
  const name = `\0berthd-data-root:${dev}:${ino}`;
  const server: Server = createServer((socket) => socket.end(`${process.pid}\n`));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw unavailable(`the data root ${dataRoot} is in use by another berthd (process ${await holderPid(name)})`);
  }
  // The lock must not keep the event loop alive on its own at shutdown.
  server.unref();
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
