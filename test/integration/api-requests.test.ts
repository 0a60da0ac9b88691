import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { rawRequest } from '../helpers/http.js';

/** Sends `head` as it is (no client would send these targets) and returns the status line's code. */
function rawStatus(socket: string, head: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let text = '';
    conn.on('data', (chunk) => (text += chunk.toString('latin1')));
    conn.on('end', () => resolve({ status: Number(text.split(' ')[1]), text }));
    conn.on('error', reject);
    conn.end(head);
  });
}

/** A one-file tar to import. */
async function smallTar(dir: string): Promise<Buffer> {
  await writeFile(join(dir, 'hello'), 'hi\n');
  return execFileSync('tar', ['-C', dir, '-c', 'hello']);
}

function importImage(daemon: TestDaemon, tar: Buffer, repo: string, label = 'team=web'): Promise<{ status: number; body: string }> {
  return rawRequest(daemon.socket, 'POST', `/images/create?fromSrc=-&repo=${encodeURIComponent(repo)}&changes=${encodeURIComponent(`LABEL ${label}`)}`, tar as unknown as string);
}

describe('API requests: status codes, routing, invalid names', { timeout: 60_000 }, () => {
  let daemon: TestDaemon;
  let work: string;
  before(async () => {
    daemon = await startDaemon({ storageDriver: 'vfs' });
    work = await mkdtemp(join(tmpdir(), 'berth-api-'));
    assert.equal((await importImage(daemon, await smallTar(work), 'small:1')).status, 200);
  });
  after(async () => {
    await daemon?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a bad %-escape in a path and a malformed request target are 400', async () => {
    for (const path of ['/containers/%zz/json', '/images/%e0%a4/json', '/images/small%/json']) {
      const res = await rawRequest(daemon.socket, 'GET', path);
      assert.equal(res.status, 400, path);
      assert.match(JSON.parse(res.body).message, /invalid URL escape/, path);
    }
    for (const target of ['containers/json', '*', 'http://[::1/x']) {
      const res = await rawStatus(daemon.socket, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 400, `${target}: ${res.text}`);
    }
  });

  test('an invalid reference is 400 "invalid reference format" wherever an image name is taken', async () => {
    const cases: Array<[string, string, string?]> = [
      ['GET', '/images/BUSYBOX/json'],
      ['GET', '/images/a\u002f\u002fb/json'],
      ['GET', '/images/busybox@sha256:abc/json'],
      ['DELETE', '/images/BUSYBOX'],
      ['DELETE', '/images/a//b'],
      ['DELETE', '/images/busybox@sha256:abc'],
      ['POST', '/images/BUSYBOX/tag?repo=x'],
      ['POST', '/images/small:1/tag?repo=a//b'],
      ['POST', '/images/small:1/tag?repo=UPPER'],
      ['POST', '/images/create?fromImage=busybox@sha256:abc'],
      ['POST', '/containers/create', '{"Image":"BUSYBOX"}'],
      ['POST', '/containers/create', '{"Image":"a//b"}'],
    ];
    for (const [method, path, body] of cases) {
      const res = await rawRequest(daemon.socket, method, path, body);
      assert.equal(res.status, 400, `${method} ${path}: ${res.body}`);
      assert.match(JSON.parse(res.body).message, /^invalid reference format/, `${method} ${path}`);
    }
    assert.equal(JSON.parse((await rawRequest(daemon.socket, 'GET', '/images/BUSYBOX/json')).body).message, 'invalid reference format: repository name (library/BUSYBOX) must be lowercase');
    assert.equal((await rawRequest(daemon.socket, 'GET', '/images/nosuch/json')).status, 404, 'a valid unknown name stays 404');
  });

  test('missing /images endpoints are 404, not 405; a wrong method on a real one stays 405', async () => {
    for (const [method, path] of [['GET', '/images/small:1/nosuch'], ['GET', '/images/small:1/get'], ['POST', '/images/load'], ['POST', '/images/small/push']]) {
      const res = await rawRequest(daemon.socket, method, path);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(JSON.parse(res.body), { message: 'page not found' });
    }
    assert.equal((await rawRequest(daemon.socket, 'POST', '/images/small:1/json')).status, 405);
  });

  test('swarm endpoints answer 503 as a dockerd outside any swarm', async () => {
    const notManager = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
    for (const [method, path] of [['GET', '/swarm'], ['GET', '/v1.50/nodes'], ['GET', '/services'], ['GET', '/tasks'], ['GET', '/secrets'], ['GET', '/configs'], ['POST', '/services/create'], ['GET', '/nodes/abc']]) {
      const res = await rawRequest(daemon.socket, method, path);
      assert.equal(res.status, 503, `${method} ${path}`);
      assert.deepEqual(JSON.parse(res.body), { message: notManager });
    }
    const leave = await rawRequest(daemon.socket, 'POST', '/swarm/leave');
    assert.equal(leave.status, 503);
    assert.deepEqual(JSON.parse(leave.body), { message: 'This node is not part of a swarm' });
  });

  test('/info reports the cgroup layout and event listeners from the engine', async () => {
    const info = JSON.parse((await rawRequest(daemon.socket, 'GET', '/info')).body);
    assert.equal(info.CgroupVersion, '1');
    assert.equal(info.CgroupDriver, 'cgroupfs');
    assert.equal(info.NEventsListener, 0);
    assert.equal(info.Images, 1);
  });

  test('image list and prune filters are checked and applied by the engine', async () => {
    const bad = await rawRequest(daemon.socket, 'GET', `/images/json?filters=${encodeURIComponent('{"colour":["red"]}')}`);
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.body), { message: "invalid filter 'colour'" });
    const listed = JSON.parse((await rawRequest(daemon.socket, 'GET', `/images/json?filters=${encodeURIComponent('{"label":["team=web"]}')}`)).body);
    assert.deepEqual(listed.map((i: { RepoTags: string[] }) => i.RepoTags), [['small:1']]);
    const pruneBad = await rawRequest(daemon.socket, 'POST', `/images/prune?filters=${encodeURIComponent('{"reference":["x"]}')}`);
    assert.equal(pruneBad.status, 400);
    assert.equal(JSON.parse(pruneBad.body).message, "invalid filter 'reference'");
  });

  test('image list before/since/until and prune label!/until filters', async () => {
    await new Promise((r) => setTimeout(r, 20));
    const between = Date.now() / 1000;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await importImage(daemon, await smallTar(work), 'newer:1', 'team=db')).status, 200);
    const names = async (f: Record<string, string[]>) => {
      const res = await rawRequest(daemon.socket, 'GET', `/images/json?filters=${encodeURIComponent(JSON.stringify(f))}`);
      assert.equal(res.status, 200, res.body);
      return JSON.parse(res.body).flatMap((i: { RepoTags: string[] }) => i.RepoTags).sort();
    };
    assert.deepEqual(await names({ before: ['newer:1'] }), ['small:1']);
    assert.deepEqual(await names({ since: ['small:1'] }), ['newer:1']);
    assert.deepEqual(await names({ until: [between.toFixed(3)] }), ['small:1']);
    assert.deepEqual(await names({ until: ['0s'] }), ['newer:1', 'small:1']);
    const unknown = await rawRequest(daemon.socket, 'GET', `/images/json?filters=${encodeURIComponent('{"before":["nosuch"]}')}`);
    assert.equal(unknown.status, 404);
    const badTime = await rawRequest(daemon.socket, 'GET', `/images/json?filters=${encodeURIComponent('{"until":["soon"]}')}`);
    assert.equal(badTime.status, 400);
    assert.equal(JSON.parse(badTime.body).message, 'failed to parse value as time or duration: "soon"');

    const keepNewer = await rawRequest(daemon.socket, 'POST', `/images/prune?filters=${encodeURIComponent(JSON.stringify({ dangling: ['false'], until: [between.toFixed(3)], 'label!': ['team=web'] }))}`);
    assert.equal(JSON.parse(keepNewer.body).ImagesDeleted, null, 'small:1 has team=web; newer:1 is too new');
    const pruned = await rawRequest(daemon.socket, 'POST', `/images/prune?filters=${encodeURIComponent(JSON.stringify({ dangling: ['false'], 'label!': ['team=web'] }))}`);
    assert.deepEqual(JSON.parse(pruned.body).ImagesDeleted[0], { Untagged: 'newer:1' });
    assert.deepEqual(await names({}), ['small:1']);
  });
});
