/**
 * An import that stops part-way fails for its own client only: berthd keeps serving and keeps
 * nothing of it (no ingest file, no pending or registered layer, no blob).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { fillDisk, tmpfsDataRoot } from '../helpers/full-disk.js';
import { rawRequest } from '../helpers/http.js';
import { buildTar } from '../unit/archive-fixtures.js';

const run = promisify(execFile);
const DOCKER = '/usr/local/bin/docker';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What an import leaves in the data root while it runs (and must not leave after it failed). */
const IMPORT_LEFTOVERS = ['content/ingest', 'layers/pending', 'layers/layers', 'content/blobs/sha256'];

async function leftovers(daemon: TestDaemon): Promise<string[]> {
  const found: string[] = [];
  for (const dir of IMPORT_LEFTOVERS) {
    for (const name of await readdir(join(daemon.dataRoot, dir))) found.push(`${dir}/${name}`);
  }
  return found;
}

/** The leftovers once berthd has had up to `graceMs` to clean up after a failed import. */
async function settledLeftovers(daemon: TestDaemon, graceMs = 5000): Promise<string[]> {
  for (const end = Date.now() + graceMs; Date.now() < end; await sleep(50)) {
    if ((await leftovers(daemon)).length === 0) return [];
  }
  return leftovers(daemon);
}

async function assertServing(daemon: TestDaemon): Promise<void> {
  assert.equal(daemon.process.exitCode, null, 'berthd is still running');
  const ping = await Promise.race([
    rawRequest(daemon.socket, 'GET', '/_ping'),
    sleep(3000).then(() => assert.fail('no answer to /_ping within 3 s')),
  ]);
  assert.equal(ping.status, 200);
}

/** Opens a connection and sends an import's headers and the first bytes of a much longer body. */
function halfSentImport(socket: string, sent: Buffer) {
  const conn = connect(socket);
  conn.on('error', () => {});
  conn.resume();
  conn.write(`POST /v1.50/images/create?fromSrc=-&repo=ab HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n`);
  conn.write(sent);
  return conn;
}

describe('an import cut short by its client', { timeout: 60_000 }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startDaemon();
  });
  after(async () => {
    await daemon?.stop();
  });

  test('a body that stops and a connection closed mid-body leave berthd serving and nothing stored', async () => {
    const conn = halfSentImport(daemon.socket, Buffer.from('abc'));
    await sleep(1000);
    conn.destroy();
    await sleep(500);
    await assertServing(daemon);
    assert.deepEqual(await settledLeftovers(daemon), []);
  });

  test('a client killed while the end of the tar is still on its way', async () => {
    // 5 MB of zeros (a tar's end marker, then more bytes than the pipes hold) and no end.
    const client = spawn(DOCKER, ['import', '-', 'x'], { env: daemon.env, stdio: ['pipe', 'ignore', 'ignore'] });
    client.stdin.on('error', () => {});
    client.stdin.write(Buffer.alloc(5 << 20));
    const exited = new Promise((r) => client.once('exit', r));
    await sleep(1500);
    client.kill('SIGKILL');
    await exited;
    await sleep(500);
    await assertServing(daemon);
    assert.deepEqual(await settledLeftovers(daemon), []);
  });
});

describe('an import onto a full disk', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  let work: string;
  before(async () => {
    daemon = await startDaemon({ prepare: tmpfsDataRoot(20) });
    work = await mkdtemp(join(tmpdir(), 'berth-import-full-'));
  });
  after(async () => {
    await daemon?.stop(); // unmounts the tmpfs with the rest of the test's mounts
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('fails for its client with "no space left on device", and berthd keeps serving', async () => {
    await writeFile(join(work, 'r.bin'), Buffer.alloc(3 << 20, 7));
    const filler = join(daemon.dataRoot, 'filler');
    await fillDisk(filler);
    try {
      const imported = await run('sh', ['-c', `tar -C ${work} -cf - r.bin | ${DOCKER} import - x`], { env: daemon.env }).then(
        () => assert.fail('the import succeeded on a full disk'),
        (err: { stderr: string }) => err,
      );
      assert.match(imported.stderr, /no space left on device/);
      await assertServing(daemon);
      assert.deepEqual(await settledLeftovers(daemon), []);
    } finally {
      await Promise.all([rm(filler), rm(`${filler}.last`, { force: true })]);
    }
    // Space freed: the same import works.
    await run('sh', ['-c', `tar -C ${work} -cf - r.bin | ${DOCKER} import - x`], { env: daemon.env });
  });
});

/** berthd's extractor processes (berth-untar) running now. */
async function extractHelpers(daemon: TestDaemon): Promise<number> {
  const { stdout } = await run('pgrep', ['-P', String(daemon.process.pid), '-f', 'berth-untar']).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean).length;
}

/** Driver layers left under overlay/ (its shared l/ folder of short links aside). */
async function driverLeftovers(daemon: TestDaemon): Promise<string[]> {
  const root = join(daemon.dataRoot, 'overlay');
  const links = await readdir(join(root, 'l')).catch(() => []);
  return [...(await readdir(root)).filter((name) => name !== 'l'), ...links.map((name) => `l/${name}`)];
}

describe('a flood of imports whose bodies stop', { timeout: 120_000 }, () => {
  const IDLE_MS = 2000;
  const FLOOD = 100;
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startDaemon({ env: { BERTH_BODY_IDLE_TIMEOUT_MS: String(IDLE_MS) } });
  });
  after(async () => {
    await daemon?.stop();
  });

  test('runs at most 4 extract helpers, keeps answering, and cuts and cleans up every stalled import', async () => {
    const flood = [];
    for (let i = 0; i < FLOOD; i++) {
      const conn = halfSentImport(daemon.socket, Buffer.from('abc'));
      flood.push(new Promise<number>((r) => conn.once('close', () => r(Date.now()))));
      if (i % 20 === 19) await sleep(50);
    }
    const started = Date.now();
    let mostHelpers = 0;
    while (Date.now() - started < IDLE_MS / 2) {
      mostHelpers = Math.max(mostHelpers, await extractHelpers(daemon));
      await sleep(100);
    }
    const pinged = Date.now();
    await assertServing(daemon);
    assert.ok(Date.now() - pinged < 2000, `/_ping took ${Date.now() - pinged} ms`);
    assert.ok(mostHelpers <= 4, `${mostHelpers} extract helpers at once`);

    // berthd itself closes every stalled import, soon after the idle timeout.
    const closed = await Promise.race([Promise.all(flood), sleep(IDLE_MS + 20_000).then(() => undefined)]);
    assert.ok(closed, 'berthd left stalled imports open');
    await assertServing(daemon);
    assert.deepEqual(await settledLeftovers(daemon, 10_000), []);
    assert.deepEqual(await driverLeftovers(daemon), []);
    assert.equal(await extractHelpers(daemon), 0);
  });

  test('a slow body that keeps making progress is not cut', async () => {
    const tar = await buildTar([{ name: 'slow', content: 'x'.repeat(10_000) }]);
    const conn = connect(daemon.socket);
    conn.on('error', () => {});
    let answer = '';
    conn.on('data', (chunk) => (answer += chunk));
    const ended = new Promise((r) => conn.once('close', r));
    conn.write(`POST /v1.50/images/create?fromSrc=-&repo=slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${tar.length}\r\n\r\n`);
    // Longer than the idle timeout in all, never idle that long.
    const pieces = 6;
    for (let i = 0; i < pieces; i++) {
      conn.write(tar.subarray(Math.floor((i * tar.length) / pieces), Math.floor(((i + 1) * tar.length) / pieces)));
      await sleep(IDLE_MS / 3);
    }
    await ended;
    assert.match(answer, /^HTTP\/1.1 200 /);
    assert.match(answer, /"status":"sha256:/);
  });
});
