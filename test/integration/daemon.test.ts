import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTHD, startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { rawRequest } from '../helpers/http.js';

const run = promisify(execFile);

describe('berthd: the API handshake', { timeout: 60_000 }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startDaemon();
  });
  after(async () => {
    await daemon?.stop();
  });

  test('the socket is mode 0660', async () => {
    assert.equal((await stat(daemon.socket)).mode & 0o777, 0o660);
  });

  test('HEAD and GET /_ping answer with the headers the docker CLI reads', async () => {
    for (const method of ['HEAD', 'GET']) {
      const ping = await rawRequest(daemon.socket, method, '/_ping');
      assert.equal(ping.status, 200);
      assert.equal(ping.headers['api-version'], '1.50');
      assert.equal(ping.headers['ostype'], 'linux');
      assert.equal(ping.headers['docker-experimental'], 'false');
      assert.equal(ping.headers['cache-control'], 'no-cache, no-store, must-revalidate');
      assert.equal(ping.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(ping.body, method === 'GET' ? 'OK' : '');
    }
  });

  test('every route takes a /v1.24 … /v1.50 prefix or none; others are refused', async () => {
    for (const prefix of ['', '/v1.24', '/v1.41', '/v1.50']) {
      const list = await rawRequest(daemon.socket, 'GET', `${prefix}/containers/json`);
      assert.equal(list.status, 200, prefix);
      assert.deepEqual(JSON.parse(list.body), []);
    }
    const old = await rawRequest(daemon.socket, 'GET', '/v1.23/version');
    assert.equal(old.status, 400);
    assert.match(JSON.parse(old.body).message, /client version 1\.23 is too old\. Minimum supported API version is 1\.24/);
    const recent = await rawRequest(daemon.socket, 'GET', '/v1.51/version');
    assert.match(JSON.parse(recent.body).message, /client version 1\.51 is too new\. Maximum supported API version is 1\.50/);
    const unknown = await rawRequest(daemon.socket, 'GET', '/v1.50/nosuch');
    assert.equal(unknown.status, 404);
    assert.deepEqual(JSON.parse(unknown.body), { message: 'page not found' });
  });

  test('/version and /info', async () => {
    const version = JSON.parse((await rawRequest(daemon.socket, 'GET', '/version')).body);
    assert.equal(version.ApiVersion, '1.50');
    assert.equal(version.MinAPIVersion, '1.24');
    assert.equal(version.Os, 'linux');
    const info = JSON.parse((await rawRequest(daemon.socket, 'GET', '/v1.50/info')).body);
    assert.equal(info.Driver, 'overlay');
    assert.equal(info.DefaultRuntime, 'crun');
    assert.ok(info.Runtimes.crun && info.Runtimes.runc);
    assert.equal(info.DockerRootDir, daemon.dataRoot);
  });
});

describe('berthd: configuration, pidfile and shutdown', { timeout: 60_000 }, () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'berth-conf-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  test('daemon.json sets what flags would; a setting in both is refused', async () => {
    const socket = join(base, 'conf.sock');
    const config = join(base, 'daemon.json');
    await writeFile(config, JSON.stringify({ hosts: [`unix://${socket}`], 'data-root': join(base, 'data'), 'exec-root': join(base, 'exec'), pidfile: join(base, 'pid'), 'storage-driver': 'vfs', 'default-runtime': 'runc' }));
    const clash = await run(process.execPath, [BERTHD, '--config-file', config, '--storage-driver', 'overlay']).catch((err) => err);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /specified both as a flag and in the configuration file: storage-driver/);

    const child = spawn(process.execPath, [BERTHD, '--config-file', config], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 25));
      const info = JSON.parse((await rawRequest(socket, 'GET', '/info')).body);
      assert.equal(info.Driver, 'vfs');
      assert.equal(info.DefaultRuntime, 'runc');

      // A second daemon on the same pidfile refuses to start (its own data root is free).
      await writeFile(join(base, 'empty.json'), '{}');
      const second = await run(process.execPath, [BERTHD, '--config-file', join(base, 'empty.json'), '-p', join(base, 'pid'), '-H', `unix://${join(base, 'second.sock')}`, '--data-root', join(base, 'd3'), '--exec-root', join(base, 'e3')]).catch((err) => err);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /pid file found, ensure berthd is not running/);

      // SIGTERM: exit 0, socket and pidfile gone.
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.ok(!existsSync(socket));
      assert.ok(!existsSync(join(base, 'pid')));
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a bad config file or an unknown storage driver stops the start with a clear message', async () => {
    const bad = join(base, 'bad.json');
    await writeFile(bad, '{"data-root": ');
    const broken = await run(process.execPath, [BERTHD, '--config-file', bad]).catch((err) => err);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /is not valid JSON/);
    await writeFile(bad, '{"colour": "red"}');
    const unknownKey = await run(process.execPath, [BERTHD, '--config-file', bad]).catch((err) => err);
    assert.match(unknownKey.stderr, /don't match any configuration option: colour/);
    const missing = await run(process.execPath, [BERTHD, '--config-file', join(base, 'none.json')]).catch((err) => err);
    assert.match(missing.stderr, /unable to read configuration file .*none\.json/);
    await writeFile(join(base, 'empty.json'), '{}');
    const driver = await run(process.execPath, [BERTHD, '--config-file', join(base, 'empty.json'), '--storage-driver', 'zfs', '-H', `unix://${join(base, 'x.sock')}`, '--data-root', join(base, 'd2'), '--exec-root', join(base, 'e2'), '-p', join(base, 'p2')]).catch((err) => err);
    assert.equal(driver.code, 1);
    // The message is in berthd's JSON log line, so its quotes are escaped.
    assert.match(driver.stderr, /unknown storage driver \\"zfs\\" \(available: overlay, vfs\)/);
  });
});
