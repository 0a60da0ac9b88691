/**
 * The client's HTTP/1.1 against a peer that writes the wire bytes by hand: every way a body can be
 * framed, split anywhere, and the request as the peer reads it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { createServer, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ChunkedDecoder, exchange, type ExchangeRequest } from '../../src/client/http-exchange.js';
import { readText } from '../../src/client/http-transport.js';

/** Runs one exchange against a peer that gets the raw request and answers with `answer`. */
async function withRawPeer(request: ExchangeRequest, answer: (socket: Socket, request: string) => void) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-http-'));
  const path = join(dir, 'peer.sock');
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = received.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      const chunked = /transfer-encoding: chunked/i.test(head);
      const complete = chunked ? received.endsWith('0\r\n\r\n') : received.length >= end + 4 + length;
      if (complete) answer(socket, received);
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const opened = new Set<Socket>();
  try {
    const result = await exchange({ path }, request, (socket) => opened.add(socket));
    assert.equal(result.kind, 'response');
    const { response } = result as Extract<typeof result, { kind: 'response' }>;
    return { status: response.statusCode, headers: response.headers, body: await readText(response) };
  } finally {
    for (const socket of [...sockets, ...opened]) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

const GET: ExchangeRequest = { method: 'GET', path: '/v1.50/version', headers: { 'User-Agent': 't' } };

/** Writes `bytes` in pieces of `size`, each a separate write after a pause, so reads split them. */
function writeSlowly(socket: Socket, bytes: string, size: number): void {
  const pieces: string[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.slice(i, i + size));
  const next = () => {
    const piece = pieces.shift();
    if (piece === undefined) return;
    socket.write(piece, 'latin1');
    setTimeout(next, 2);
  };
  next();
}

test('a Content-Length body ends at its length, even with the connection left open', async () => {
  const result = await withRawPeer(GET, (socket) =>
    writeSlowly(socket, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a":"b c"}', 7),
  );
  assert.deepEqual(result, { status: 200, headers: { 'content-type': 'application/json', 'content-length': '11' }, body: '{"a":"b c"}' });
});

test('a chunked body split anywhere is decoded, extensions and trailers ignored', async () => {
  const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n';
  for (const size of [1, 3, 1000]) {
    const result = await withRawPeer(GET, (socket) => writeSlowly(socket, wire, size));
    assert.equal(result.body, 'hello, world', `pieces of ${size}`);
  }
});

test('without a length the body runs to the close; 204 and HEAD answers have none', async () => {
  assert.equal((await withRawPeer(GET, (socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nall of it'))).body, 'all of it');
  const empty = await withRawPeer({ ...GET, method: 'POST' }, (socket) => socket.write('HTTP/1.1 204 No Content\r\n\r\n'));
  assert.deepEqual([empty.status, empty.body], [204, '']);
  const head = await withRawPeer({ ...GET, method: 'HEAD' }, (socket) =>
    socket.write('HTTP/1.1 200 OK\r\nApi-Version: 1.50\r\nContent-Length: 2\r\n\r\n'),
  );
  assert.deepEqual([head.status, head.headers['api-version'], head.body], [200, '1.50', '']);
});

test('the request carries its body with a length, or chunked when it is a stream', async () => {
  let seen = '';
  await withRawPeer({ method: 'POST', path: '/x?a=1', headers: { 'Content-Type': 'application/json' }, body: '{"é":1}' }, (socket, request) => {
    seen = request;
    socket.end('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
  });
  assert.equal(
    seen,
    'POST /x?a=1 HTTP/1.1\r\nHost: api.moby.localhost\r\nContent-Type: application/json\r\nContent-Length: 8\r\nConnection: close\r\n\r\n{"é":1}'.replace('é', '\xc3\xa9'),
  );
  await withRawPeer({ method: 'POST', path: '/y', headers: {}, body: Readable.from([Buffer.from('ab'), Buffer.from('cde')]) }, (socket, request) => {
    seen = request;
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  assert.match(seen, /Transfer-Encoding: chunked\r\n/);
  assert.ok(seen.endsWith('\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n'), seen);
});

test('a connection closed before the body is complete is an error, not a short body', async () => {
  await assert.rejects(
    withRawPeer(GET, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort')),
    /closed the connection in the middle of a response/,
  );
  await assert.rejects(
    withRawPeer(GET, (socket) => socket.end('SSH-2.0-OpenSSH\r\n\r\n')),
    /did not answer in HTTP\/1\.1/,
  );
});

test('the chunked decoder refuses a size that is not hexadecimal', () => {
  const decoder = new ChunkedDecoder(() => undefined, () => undefined);
  assert.throws(() => decoder.push(Buffer.from('zz\r\n')), /malformed chunked body/);
});

test('a large streamed body reaches a strict HTTP server whole, whatever the socket buffers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-http-'));
  const path = join(dir, 'peer.sock');
  const server = http.createServer(async (req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of req) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      await new Promise((resolve) => setImmediate(resolve)); // a slow reader, so the client must wait for drain
    }
    res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(65536 + i, i));
    const expected = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
    const result = await exchange({ path }, { method: 'POST', path: '/images/create', headers: {}, body: Readable.from(chunks) }, () => undefined);
    assert.equal(result.kind, 'response');
    const { response } = result as Extract<typeof result, { kind: 'response' }>;
    assert.deepEqual(JSON.parse(await readText(response)), { bytes: chunks.reduce((n, c) => n + c.length, 0), sha256: expected });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});
