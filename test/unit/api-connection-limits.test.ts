import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type RequestListener } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConnectionLimits, limitBodyIdleTime, limitConnections, serverOptions, type ConnectionLimits } from '../../src/api/connection-limits.js';

const LIMITS: ConnectionLimits = { headersTimeoutMs: 600, idleTimeoutMs: 400, maxConnections: 20, bodyIdleTimeoutMs: 500 };

async function withServer(
  body: (socket: string) => Promise<void>,
  handler: RequestListener = (_req, res) => res.end('ok'),
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-conn-'));
  const path = join(dir, 'api.sock');
  const server = createServer(serverOptions(LIMITS), handler);
  limitConnections(server, LIMITS);
  limitBodyIdleTime(server, LIMITS);
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers with the number of body bytes read, after waiting `delayMs` before reading any. */
function countingHandler(delayMs = 0): RequestListener {
  return async (req, res) => {
    await sleep(delayMs);
    let size = 0;
    try {
      for await (const chunk of req) size += (chunk as Buffer).length;
    } catch {
      return; // cut: nothing to answer
    }
    res.end(String(size));
  };
}

/** Sends a request with a 1000-byte body in `pieces`, `gapMs` apart; resolves with what came back and when the connection closed. */
async function sendBody(path: string, pieces: Buffer[], gapMs: number): Promise<{ answer: string; closedAfter: number }> {
  const socket = connect(path);
  socket.on('error', () => {});
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk));
  const started = Date.now();
  const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - started)));
  socket.write('POST /body HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n');
  for (const piece of pieces) {
    if (socket.destroyed) break;
    socket.write(piece);
    await sleep(gapMs);
  }
  const closedAfter = await closed;
  return { answer, closedAfter };
}

test('a request body that stops arriving is cut after the body idle timeout; one that keeps coming is not', async () => {
  await withServer(async (path) => {
    const stalled = await sendBody(path, [Buffer.from('abc')], 0);
    assert.equal(stalled.answer, '');
    assert.ok(stalled.closedAfter >= LIMITS.bodyIdleTimeoutMs - 50 && stalled.closedAfter < LIMITS.bodyIdleTimeoutMs + 1500, `closed after ${stalled.closedAfter} ms`);

    const slow = await sendBody(path, Array.from({ length: 10 }, () => Buffer.alloc(100)), LIMITS.bodyIdleTimeoutMs / 3);
    assert.ok(slow.closedAfter > 2 * LIMITS.bodyIdleTimeoutMs, 'the whole body took longer than the idle timeout');
    assert.match(slow.answer, /\r\n\r\n1000$/);
  }, countingHandler());
});

test('a keep-alive connection that sent a request body is still closed after the idle timeout', async () => {
  await withServer(async (path) => {
    const socket = connect(path);
    socket.on('error', () => {});
    let answered = 0;
    socket.on('data', () => (answered = answered || Date.now()));
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
    socket.write('POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789');
    const idleFor = await Promise.race([closed.then((at) => at - answered), sleep(3000).then(() => Infinity)]);
    socket.destroy();
    assert.ok(answered > 0);
    assert.ok(idleFor >= LIMITS.idleTimeoutMs - 50 && idleFor < LIMITS.idleTimeoutMs + 1500, `idle for ${idleFor} ms`);
  }, countingHandler());
});

test('body bytes the server has not read yet do not count as the client stalling', async () => {
  await withServer(async (path) => {
    const held = await sendBody(path, [Buffer.alloc(1000)], 0);
    assert.match(held.answer, /\r\n\r\n1000$/);
  }, countingHandler(3 * LIMITS.bodyIdleTimeoutMs));
});

test('the default cap leaves a quarter of the descriptors in reserve', () => {
  const limits = defaultConnectionLimits();
  const soft = Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
  assert.equal(limits.maxConnections, Math.floor(soft * 0.75));
  assert.ok(limits.headersTimeoutMs > 0 && limits.idleTimeoutMs > 0);
  assert.equal(limits.bodyIdleTimeoutMs, 5 * 60_000);
  assert.equal(defaultConnectionLimits({ BERTH_BODY_IDLE_TIMEOUT_MS: '1500' }).bodyIdleTimeoutMs, 1500);
});
