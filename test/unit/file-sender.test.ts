import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { sendFile } from '../../src/storage/file-sender.js';
import { tempDir } from './archive-fixtures.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * A server that reads each request body slowly (so the client's writes wait in its socket and
 * its buffers come back late, the case where reusing one too early would corrupt what is sent)
 * and answers with the sha256 and length of what it received.
 */
async function slowServer(t: TestContext): Promise<string> {
  const server = http.createServer(async (req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        hash.update(chunk);
        length += chunk.length;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch {
      return; // a request the client gave up on
    }
    res.end(JSON.stringify({ digest: hash.digest('hex'), length }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function fileOf(t: TestContext, data: Buffer): Promise<string> {
  const path = join(await tempDir(t, 'file-sender'), 'blob');
  await writeFile(path, data);
  return path;
}

function put(url: string, size: number, send: (request: http.ClientRequest) => Promise<void>): Promise<{ answer: { digest: string; length: number }; sent: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'PUT', headers: { 'Content-Length': String(size) } });
    const sent = send(request);
    sent.catch(() => undefined);
    request.on('error', reject);
    request.on('response', async (response) => {
      let body = '';
      for await (const chunk of response) body += chunk;
      resolve({ answer: JSON.parse(body), sent });
    });
  });
}

test('sends every byte of a file of several buffers, in order, through a slow reader', async (t) => {
  const url = await slowServer(t);
  const data = randomFillSync(Buffer.alloc(9 * 1024 * 1024 + 12345));
  const file = await open(await fileOf(t, data), 'r');
  t.after(() => file.close());
  const progress: number[] = [];
  const { answer, sent } = await put(url, data.length, (request) => sendFile(file, data.length, request, (total) => progress.push(total)));
  await sent;
  assert.deepEqual(answer, { digest: sha256(data), length: data.length });
  assert.equal(progress.at(-1), data.length);
  assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
});

test('sends only the first size bytes, and an empty file as an empty body', async (t) => {
  const url = await slowServer(t);
  const data = randomFillSync(Buffer.alloc(3000));
  const file = await open(await fileOf(t, data), 'r');
  t.after(() => file.close());
  const first = await put(url, 1000, (request) => sendFile(file, 1000, request));
  assert.deepEqual(first.answer, { digest: sha256(data.subarray(0, 1000)), length: 1000 });
  const empty = await put(url, 0, (request) => sendFile(file, 0, request));
  assert.deepEqual(empty.answer, { digest: sha256(Buffer.alloc(0)), length: 0 });
});

test('fails when the file is shorter than the size it was given', async (t) => {
  const data = randomFillSync(Buffer.alloc(5000));
  const file = await open(await fileOf(t, data), 'r');
  t.after(() => file.close());
  const request = http.request(await slowServer(t), { method: 'PUT', headers: { 'Content-Length': '6000' } });
  request.on('error', () => undefined);
  await assert.rejects(sendFile(file, 6000, request), /the file ended after 5000 of its 6000 bytes/);
  request.destroy();
});

test('fails when the request is destroyed while the file is still being sent', async (t) => {
  const data = randomFillSync(Buffer.alloc(8 * 1024 * 1024));
  const file = await open(await fileOf(t, data), 'r');
  t.after(() => file.close());
  const request = http.request(await slowServer(t), { method: 'PUT', headers: { 'Content-Length': String(data.length) } });
  request.on('error', () => undefined);
  const sending = sendFile(file, data.length, request, (total) => {
    if (total >= 1024 * 1024) request.destroy();
  });
  await assert.rejects(sending, /the request closed after \d+ of 8388608 bytes/);
});
