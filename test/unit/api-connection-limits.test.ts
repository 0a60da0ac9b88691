import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConnectionLimits, limitConnections, serverOptions, type ConnectionLimits } from '../../src/api/connection-limits.js';

const LIMITS: ConnectionLimits = { headersTimeoutMs: 600, idleTimeoutMs: 400, maxConnections: 20 };

async function withServer(body: (socket: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-conn-'));
  const path = join(dir, 'api.sock');
  const server = createServer(serverOptions(LIMITS), (_req, res) => res.end('ok'));
  limitConnections(server, LIMITS);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    await body(path);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

/** A connection that sends part of a request's headers and then nothing. */
function halfSent(path: string): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => {
      socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
      socket.resume(); // read the 408, or the end is never seen
      resolve({ socket, closed: new Promise((r) => socket.once('close', () => r(Date.now()))) });
    });
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

function get(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.setTimeout(2000, () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', reject);
    req.end();
  });
}

test('a flood of half-sent requests cannot lock out a new client, and each is closed after the header timeout', async () => {
  await withServer(async (path) => {
    const started = Date.now();
    const flood = await Promise.all(Array.from({ length: 3 * LIMITS.maxConnections }, () => halfSent(path)));
    // Far more than the cap are waiting: the oldest made room, and a real client is answered.
    assert.equal(await get(path), 'ok');
    const closedAt = await Promise.all(flood.map((c) => c.closed));
    const last = Math.max(...closedAt) - started;
    assert.ok(last < LIMITS.headersTimeoutMs * 4 + 2000, `the last half-sent connection was closed after ${last} ms`);
  });
});

test('half-sent requests under the cap are closed after the header timeout, not before', async () => {
  await withServer(async (path) => {
    const started = Date.now();
    const few = await Promise.all(Array.from({ length: 5 }, () => halfSent(path)));
    const closedAt = await Promise.all(few.map((c) => c.closed));
    for (const at of closedAt) {
      assert.ok(at - started >= LIMITS.headersTimeoutMs - 50, `closed after ${at - started} ms`);
      assert.ok(at - started < LIMITS.headersTimeoutMs + 1500, `closed after ${at - started} ms`);
    }
  });
});

test('an idle keep-alive connection is closed after the idle timeout', async () => {
  await withServer(async (path) => {
    const socket = connect(path);
    socket.on('error', () => {});
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
    let answered = 0;
    socket.on('data', () => (answered = answered || Date.now()));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const idleFor = (await closed) - answered;
    assert.ok(answered > 0);
    assert.ok(idleFor >= LIMITS.idleTimeoutMs - 50 && idleFor < LIMITS.idleTimeoutMs + 1500, `idle for ${idleFor} ms`);
  });
});

test('the default cap leaves a quarter of the descriptors in reserve', () => {
  const limits = defaultConnectionLimits();
  const soft = Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
  assert.equal(limits.maxConnections, Math.floor(soft * 0.75));
  assert.ok(limits.headersTimeoutMs > 0 && limits.idleTimeoutMs > 0);
});
