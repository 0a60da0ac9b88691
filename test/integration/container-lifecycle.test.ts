import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { type TestDaemon, useBusyboxDaemon } from '../helpers/berthd.js';
import { mountsUnder, rawRequest } from '../helpers/http.js';

/** A connection that sends `head` and then reads nothing until the test says so. */
async function stalledConnection(path: string, head: string): Promise<Socket> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.pause();
  socket.write(head);
  return socket;
}

/** Files berthd holds open whose path contains `fragment`. */
async function openFilesOf(pid: number, fragment: string): Promise<string[]> {
  const targets = await Promise.all(
    (await readdir(`/proc/${pid}/fd`)).map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')),
  );
  return targets.filter((target) => target.includes(fragment));
}

const until = async (check: () => Promise<boolean>, ms: number) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (await check()) return true;
  return false;
};

function residentKiB(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)![1]);
}

async function inspect(daemon: TestDaemon, name: string) {
  return JSON.parse((await daemon.berth(['inspect', name])).stdout)[0];
}

describe('container lifecycle races and stalled clients', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  useBusyboxDaemon((d) => (daemon = d));

  test('rm -f of a running --rm container succeeds and leaves nothing', async () => {
    await daemon.berth(['run', '-d', '--rm', '--name', 'auto', 'busybox', 'sleep', '300']);
    const removed = await daemon.berth(['rm', '-f', 'auto'], { allowFailure: true });
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
    assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
  });

  test('two starts at once: one starts it, the other answers 304, and the container runs on', async () => {
    await daemon.berth(['create', '--name', 'twice', 'busybox', 'sleep', '300']);
    const answers = await Promise.all([1, 2].map(() => rawRequest(daemon.socket, 'POST', '/v1.50/containers/twice/start')));
    assert.deepEqual(answers.map((a) => a.status).sort(), [204, 304], JSON.stringify(answers));
    const state = (await inspect(daemon, 'twice')).State;
    assert.equal(state.Status, 'running');
    assert.equal(state.Error, '');
    await daemon.berth(['rm', '-f', 'twice']);
    assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
  });

  test('a logs -f client that stops reading and goes away releases the log file', async () => {
    const id = (await daemon.berth(['run', '-d', '--name', 'chatty', 'busybox', 'sh', '-c', 'while :; do echo berth log line; done'])).stdout.trim();
    const pid = daemon.process.pid!;
    const reader = await stalledConnection(
      daemon.socket,
      `GET /v1.50/containers/${id}/logs?follow=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    try {
      assert.ok(await until(async () => (await openFilesOf(pid, id)).length > 0, 5000), 'logs opened the file');
      await new Promise((r) => setTimeout(r, 500)); // the response fills up and waits for the client
    } finally {
      reader.destroy();
    }
    assert.ok(await until(async () => (await openFilesOf(pid, id)).length === 0, 5000), 'the log file is closed');
    await daemon.berth(['rm', '-f', 'chatty']);
  });

  test('an attach client that stops reading is cut off; the container runs on', async () => {
    const id = (await daemon.berth(['run', '-d', '--name', 'flood', 'busybox', 'yes', 'berth attach line'])).stdout.trim();
    const client = await stalledConnection(
      daemon.socket,
      `POST /v1.50/containers/${id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`,
    );
    try {
      await new Promise((r) => setTimeout(r, 1000)); // far more output than the daemon holds for one client
      const ended = new Promise<boolean>((resolve) => {
        client.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 5000);
      });
      client.on('data', () => {}); // read what was sent before the cut
      client.resume();
      assert.equal(await ended, true, 'the daemon closed the connection');
      assert.equal((await inspect(daemon, 'flood')).State.Running, true);
    } finally {
      client.destroy();
      await daemon.berth(['rm', '-f', 'flood']);
    }
  });

  test('a container\'s output arrives whole on the attached client, to its last line', async () => {
    for (let i = 0; i < 5; i++) {
      const { stdout } = await daemon.berth(['run', '--rm', 'busybox', 'seq', '1', '20000']);
      assert.equal(stdout.split('\n').at(-2), '20000');
    }
  });

  test('output without a final newline shows in logs', async () => {
    await daemon.berth(['run', '--name', 'nonl', 'busybox', 'printf', 'abc']);
    assert.equal((await daemon.berth(['logs', 'nonl'])).stdout, 'abc');
    await daemon.berth(['rm', 'nonl']);
  });

  test('a wait for the next exit ends when the container is removed instead', async () => {
    const { stdout } = await daemon.berth(['create', 'busybox', 'true']);
    const id = stdout.trim();
    const waiting = rawRequest(daemon.socket, 'POST', `/containers/${id}/wait?condition=next-exit`);
    await new Promise((r) => setTimeout(r, 200));
    await daemon.berth(['rm', id]);
    const result = await waiting;
    assert.equal(result.status, 200);
    assert.deepEqual(JSON.parse(result.body), { StatusCode: 0, Error: null });
  });

  test('stdin arrives byte-exact, and one the container does not read is held back, not buffered', async () => {
    const data = randomBytes(3 << 20);
    const digest = createHash('md5').update(data).digest('hex');
    assert.equal((await daemon.berth(['run', '-i', '--rm', 'busybox', 'md5sum'], { input: data })).stdout, `${digest}  -\n`);

    const rssBefore = residentKiB(daemon.process.pid!);
    const flood = Buffer.alloc(200 << 20);
    const result = await daemon.berth(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'sleep 3; head -c 10 >/dev/null; echo read'], { input: flood, allowFailure: true });
    assert.equal(result.stdout, 'read\n');
    assert.ok(residentKiB(daemon.process.pid!) - rssBefore < 64 << 10, 'berthd did not take the 200 MiB into memory');
  });

  test('rm right after an exit removes the container for good (no record comes back)', async () => {
    const ids: string[] = [];
    for (let round = 0; round < 15; round++) {
      const id = (await daemon.berth(['run', '-d', 'busybox', 'sleep', '300'])).stdout.trim();
      ids.push(id);
      await rawRequest(daemon.socket, 'POST', `/containers/${id}/kill`);
      while (JSON.parse((await rawRequest(daemon.socket, 'GET', `/containers/${id}/json`)).body).State.Running) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const removed = await rawRequest(daemon.socket, 'DELETE', `/containers/${id}`);
      assert.equal(removed.status, 204, removed.body);
    }
    await daemon.restart();
    assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
    for (const id of ids) assert.ok(!existsSync(join(daemon.dataRoot, 'containers', id)), `${id} came back`);
  });

  test('ps -f status=exited lists stopped containers without -a; a bad status or dangling value is refused', async () => {
    await daemon.berth(['run', '--name', 'done', 'busybox', 'true']);
    assert.match((await daemon.berth(['ps', '-f', 'status=exited'])).stdout, /\sdone\n$/);
    const badStatus = await rawRequest(daemon.socket, 'GET', `/containers/json?filters=${encodeURIComponent('{"status":["sleepy"]}')}`);
    assert.equal(badStatus.status, 400);
    const badDangling = await rawRequest(daemon.socket, 'GET', `/images/json?filters=${encodeURIComponent('{"dangling":["yes"]}')}`);
    assert.equal(badDangling.status, 400);
    const dangling = await rawRequest(daemon.socket, 'GET', `/images/json?filters=${encodeURIComponent('{"dangling":["1"]}')}`);
    assert.deepEqual(JSON.parse(dangling.body), []);
    await daemon.berth(['rm', 'done']);
  });
});
