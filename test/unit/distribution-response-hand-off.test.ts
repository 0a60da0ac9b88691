/**
 * A plain-HTTP response's body handed to another process that reads the connection itself
 * (response-hand-off.ts): whatever way the server cuts the body into writes, the reader gets
 * exactly the body (the head berthd read, then the connection's bytes), and a body given back is
 * read whole by berthd. Responses that cannot be handed over (chunked, compressed, not 200) are
 * not stopped.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { bodyHandOff, stopBodyForHandOff } from '../../src/engine/distribution/response-hand-off.js';

const BODY = randomBytes(3 * 1024 * 1024 + 17);
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A server answering every request with BODY, in writes of `piece` bytes `gapMs` apart. */
async function server(piece: number, gapMs: number, headers: OutgoingHttpHeaders = {}): Promise<{ url: string; close(): Promise<void> }> {
  const s = http.createServer(async (_req, res) => {
    const all: OutgoingHttpHeaders = { 'Content-Length': BODY.length, ...headers };
    for (const [name, value] of Object.entries(all)) if (value === undefined) delete all[name];
    res.writeHead(200, all);
    for (let sent = 0; sent < BODY.length && !res.destroyed; sent += piece) {
      res.write(BODY.subarray(sent, sent + piece));
      if (gapMs > 0) await sleep(gapMs);
    }
    res.end();
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/blob`,
    close: () => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(() => resolve()));
    },
  };
}

/** GET `url`, stopping the response for a hand-off in its 'response' event, as the registry client does. */
function get(url: string, agent: http.Agent): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (response) => {
      stopBodyForHandOff(response, 5000);
      resolve(response);
    });
    req.on('error', reject);
  });
}

/** What a child process reads from `fd`: `bytes` of them, as the extractor reads the connection. */
async function readInChild(fd: number, bytes: number): Promise<Buffer> {
  const child = spawn('head', ['-c', String(bytes)], { stdio: [fd, 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(child, 'close');
  return Buffer.concat(chunks);
}

async function readAll(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

for (const [piece, gapMs] of [
  [BODY.length, 0],
  [1000, 0],
  [64 * 1024, 2],
  [7, 0],
] as const) {
  test(`a body written ${piece} bytes at a time reaches the process that takes it, byte for byte`, async () => {
    const srv = await server(piece, gapMs);
    const agent = new http.Agent({ keepAlive: true });
    try {
      const response = await get(srv.url, agent);
      // Time for more of the body to reach the kernel: berthd must not read any of it.
      await sleep(20);
      const taken = bodyHandOff(response)!.take()!;
      assert.ok(taken, 'the body was not handed over');
      assert.equal(taken.head.length + taken.remaining, BODY.length);
      const rest = await readInChild(taken.fd, taken.remaining);
      response.destroy();
      assert.equal(sha(Buffer.concat([taken.head, rest])), sha(BODY));
    } finally {
      agent.destroy();
      await srv.close();
    }
  });
}

test('a body taken and given back, or never taken, is read whole by berthd; the connection serves the next request', async () => {
  const srv = await server(1000, 0);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await get(srv.url, agent);
    await sleep(20);
    const handOff = bodyHandOff(first)!;
    handOff.giveBack(handOff.take());
    assert.equal(sha(await readAll(first)), sha(BODY));

    // The agent takes the connection back once the response has ended.
    await sleep(20);
    const second = await get(srv.url, agent);
    assert.ok((second as IncomingMessage & { req: http.ClientRequest }).req.reusedSocket, 'the kept-alive connection was not reused');
    await sleep(20);
    bodyHandOff(second)!.giveBack();
    assert.equal(sha(await readAll(second)), sha(BODY));
  } finally {
    agent.destroy();
    await srv.close();
  }
});

test('chunked or compressed bodies are not stopped: they are not the bytes on the wire', async () => {
  for (const headers of [{ 'Transfer-Encoding': 'chunked', 'Content-Length': undefined }, { 'Content-Encoding': 'gzip' }] as OutgoingHttpHeaders[]) {
    const srv = await server(1000, 0, headers);
    const agent = new http.Agent();
    try {
      const response = await get(srv.url, agent);
      assert.equal(bodyHandOff(response), undefined);
      assert.equal(sha(await readAll(response)), sha(BODY));
    } finally {
      agent.destroy();
      await srv.close();
    }
  }
});
