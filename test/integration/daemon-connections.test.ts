import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTHD } from '../helpers/berthd.js';
import { rawRequest } from '../helpers/http.js';

/** berthd's descriptor limit here: small enough for a test to flood, as 21,000 did at 20,000. */
const NOFILE = 256;

describe('berthd under a flood of half-sent requests', { timeout: 60_000 }, () => {
  let base: string;
  let child: ChildProcess;
  const flood: Socket[] = [];
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'berth-flood-'));
    await writeFile(join(base, 'daemon.json'), '{}');
    child = spawn('prlimit', [
      `--nofile=${NOFILE}:${NOFILE}`, '--', process.execPath, BERTHD,
      '--config-file', join(base, 'daemon.json'), '-H', `unix://${join(base, 'api.sock')}`,
      '--data-root', join(base, 'data'), '--exec-root', join(base, 'exec'), '-p', join(base, 'pid'), '-s', 'vfs',
    ], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(join(base, 'api.sock')); i++) await new Promise((r) => setTimeout(r, 25));
  });
  after(async () => {
    for (const socket of flood) socket.destroy();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await rm(base, { recursive: true, force: true });
  });

  test('more half-sent connections than berthd has descriptors do not lock out a new client', async () => {
    const socket = join(base, 'api.sock');
    for (let i = 0; i < NOFILE * 2; i++) {
      const conn = connect(socket);
      conn.on('error', () => {});
      conn.resume();
      conn.write('GET /_ping HTTP/1.1\r\nHost: x\r\n');
      flood.push(conn);
      if (i % 32 === 31) await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const ping = await Promise.race([
      rawRequest(socket, 'GET', '/_ping'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 3 s')), 3000)),
    ]);
    assert.equal(ping.status, 200);
    assert.ok(Date.now() - started < 3000);
    const info = await rawRequest(socket, 'GET', '/info');
    assert.equal(info.status, 200, 'the daemon still has descriptors for its own work');
    const open = flood.filter((c) => !c.destroyed && !c.readableEnded).length;
    assert.ok(open < NOFILE, `${open} of the flood still open: the oldest were closed to make room`);
  });
});
