import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { useBusyboxDaemon, type TestDaemon } from '../helpers/berthd.js';
import { rawRequest } from '../helpers/http.js';
import { demux, rawAttach, until, writeChunk } from '../helpers/raw-attach.js';

const STDOUT = 1;
const STDERR = 2;

describe('attach as Docker clients use it', { timeout: 240_000 }, () => {
  let daemon: TestDaemon;
  useBusyboxDaemon((d) => (daemon = d));

  const inspect = async (name: string) => JSON.parse((await daemon.berth(['inspect', name])).stdout)[0];
  const running = async (name: string) => (await inspect(name)).State.Running as boolean;
  const events = async (since: number, action: string) => {
    const filters = encodeURIComponent(JSON.stringify({ event: [action] }));
    const { body } = await rawRequest(daemon.socket, 'GET', `/events?since=${since}&until=${Math.ceil(Date.now() / 1000) + 1}&filters=${filters}`);
    return body.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  };

  test('without Upgrade: 200, the raw stream until the container exits (dockerode, docker-py)', async () => {
    await daemon.berth(['run', '-d', '--name', 'plain', 'busybox', 'sh', '-c', 'sleep 1; echo out; echo err >&2; sleep 0.3']);
    const attach = rawAttach(daemon.socket, '/v1.50/containers/plain/attach?stream=1&stdout=1&stderr=1');
    const head = await attach.head;
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.equal(head.headers['transfer-encoding'], undefined, 'the body is the stream itself, not chunked');
    assert.ok(head.headers['api-version'], 'the daemon headers, as dockerd copies them');
    assert.deepEqual(demux(await attach.body), [[STDOUT, 'out\n'], [STDERR, 'err\n']]);
    await daemon.berth(['rm', 'plain']);
  });

  test('logs=1 replays the past output, alone on a stopped container, both ways of asking', async () => {
    await daemon.berth(['run', '--name', 'past', 'busybox', 'sh', '-c', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three']);
    for (const upgrade of [false, true]) {
      const attach = rawAttach(daemon.socket, '/containers/past/attach?logs=1&stream=0&stdout=1&stderr=1', { upgrade });
      assert.equal((await attach.head).status, upgrade ? 101 : 200);
      assert.deepEqual(demux(await attach.body), [[STDOUT, 'one\n'], [STDERR, 'two\n'], [STDOUT, 'three\n']]);
    }
    const onlyErr = rawAttach(daemon.socket, '/containers/past/attach?logs=1&stderr=1');
    assert.deepEqual(demux(await onlyErr.body), [[STDERR, 'two\n']]);
    await daemon.berth(['rm', 'past']);
  });

  test('logs=1&stream=1 replays, then streams live output', async () => {
    await daemon.berth(['run', '-d', '--name', 'both', 'busybox', 'sh', '-c', 'echo before; sleep 1.5; echo after']);
    await until(async () => (await daemon.berth(['logs', 'both'])).stdout === 'before\n', 'the first line in the log');
    const attach = rawAttach(daemon.socket, '/containers/both/attach?logs=1&stream=1&stdout=1', { upgrade: true });
    assert.deepEqual(demux(await attach.body), [[STDOUT, 'before\n'], [STDOUT, 'after\n']]);
    await daemon.berth(['rm', 'both']);
  });

  test('without Upgrade, a chunked request body is stdin; its end ends the attach, not the container', async () => {
    await daemon.berth(['run', '-d', '-i', '--name', 'cat', 'busybox', 'cat']);
    const attach = rawAttach(daemon.socket, '/containers/cat/attach?stream=1&stdin=1&stdout=1', { body: 'chunked' });
    assert.equal((await attach.head).status, 200);
    writeChunk(attach.socket, 'hello\n');
    await until(() => demux(attach.received()).length > 0, 'the echo');
    assert.deepEqual(demux(attach.received()), [[STDOUT, 'hello\n']]);
    writeChunk(attach.socket, '');
    await attach.body;
    assert.equal(await running('cat'), true, 'the container keeps its stdin and runs on');
    await daemon.berth(['rm', '-f', 'cat']);
  });

  test('with Upgrade, a request body (dockerode sends its options as JSON) is not stdin', async () => {
    await daemon.berth(['run', '-d', '-i', '--name', 'cat2', 'busybox', 'cat']);
    const attach = rawAttach(daemon.socket, '/containers/cat2/attach?stream=1&stdin=1&stdout=1', { upgrade: true, body: { json: '{"stream":true,"stdin":true}' } });
    assert.equal((await attach.head).status, 101);
    attach.socket.write('only this\n');
    await until(() => demux(attach.received()).length > 0, 'the echo');
    assert.deepEqual(demux(attach.received()), [[STDOUT, 'only this\n']]);
    attach.socket.end();
    await attach.body;
    await daemon.berth(['rm', '-f', 'cat2']);
  });

  test('detach keys on a TTY attach: handled by the daemon, the stream closes, the container runs on', async () => {
    await daemon.berth(['run', '-dit', '--name', 'tty', 'busybox', 'sh']);
    const since = Math.floor(Date.now() / 1000);
    for (const [query, keys] of [['', '\x10\x11'], ['&detachKeys=ctrl-a,x', '\x01x']] as const) {
      const attach = rawAttach(daemon.socket, `/containers/tty/attach?stream=1&stdin=1&stdout=1&stderr=1${query}`, { upgrade: true });
      assert.equal((await attach.head).status, 101);
      attach.socket.write('echo mark-$((6*7))\r');
      await until(() => attach.received().toString().includes('mark-42'), 'the shell answering');
      // Split across writes, and after a broken partial match, as a terminal would send it.
      attach.socket.write(`${keys[0]}z\x7f${keys[0]}`);
      await new Promise((r) => setTimeout(r, 100));
      attach.socket.write(keys.slice(1));
      await attach.body; // the daemon closed the stream
      assert.equal(await running('tty'), true);
    }
    const detaches = await events(since, 'detach');
    assert.equal(detaches.length, 2);
    await daemon.berth(['rm', '-f', 'tty']);
  });

  test('daemon.json detach-keys is the default sequence', async () => {
    await writeFile(join(dirname(daemon.dataRoot), 'daemon.json'), JSON.stringify({ 'detach-keys': 'ctrl-e' }));
    try {
      await daemon.restart();
      await daemon.berth(['run', '-dit', '--name', 'keys', 'busybox', 'sh']);
      const attach = rawAttach(daemon.socket, '/containers/keys/attach?stream=1&stdin=1&stdout=1', { upgrade: true });
      await attach.head;
      attach.socket.write('\x10\x11'); // Ctrl-P Ctrl-Q is now ordinary input
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(attach.socket.readyState, 'open');
      attach.socket.write('\x05');
      await attach.body;
      assert.equal(await running('keys'), true);
      await daemon.berth(['rm', '-f', 'keys']);
    } finally {
      await writeFile(join(dirname(daemon.dataRoot), 'daemon.json'), '{}');
      await daemon.restart();
    }
  });

  test('refusals are ordinary HTTP errors, as dockerd: bad detach keys 400, paused 409, unknown 404', async () => {
    await daemon.berth(['run', '-d', '--name', 'frozen', 'busybox', 'sleep', '300']);
    const bad = rawAttach(daemon.socket, '/containers/frozen/attach?stream=1&detachKeys=ctrl-p,meta-q', { upgrade: true });
    assert.equal((await bad.head).status, 400);
    assert.match((await bad.body).toString(), /Invalid detach keys \(ctrl-p,meta-q\) provided/);
    assert.equal((await rawRequest(daemon.socket, 'POST', '/containers/frozen/pause')).status, 204); // berth pause is H2's
    const paused = await rawRequest(daemon.socket, 'POST', '/containers/frozen/attach?stream=1&stdout=1');
    assert.equal(paused.status, 409);
    assert.match(paused.body, /container frozen is paused, unpause the container before attach/);
    assert.equal((await rawRequest(daemon.socket, 'POST', '/containers/nosuch/attach?stream=1')).status, 404);
    await daemon.berth(['rm', '-f', 'frozen']);
  });
});
