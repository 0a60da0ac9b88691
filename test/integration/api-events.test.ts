import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { rawRequest } from '../helpers/http.js';

interface Event {
  status?: string;
  id?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}

const nowSeconds = () => (Date.now() / 1000).toFixed(3);
/** An `until` that takes in every event published so far (several share a millisecond). */
const untilNow = () => ((Date.now() + 1) / 1000).toFixed(3);
const filters = (f: Record<string, string[]>) => encodeURIComponent(JSON.stringify(f));

/** Opens GET /events and hands out each event line as it arrives. */
function openEvents(socket: string, query: string): Promise<{ res: IncomingMessage; next: () => Promise<string | undefined>; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: `/events?${query}` }, (res) => {
      const lines: string[] = [];
      const waiters: Array<(line: string | undefined) => void> = [];
      let buffer = '';
      let ended = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const waiter = waiters.shift();
          if (waiter) waiter(line);
          else lines.push(line);
        }
      });
      res.on('end', () => {
        ended = true;
        for (const waiter of waiters.splice(0)) waiter(undefined);
      });
      const next = () => new Promise<string | undefined>((r) => (lines.length > 0 ? r(lines.shift()) : ended ? r(undefined) : waiters.push(r)));
      resolve({ res, next, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

async function readAll(socket: string, query: string): Promise<{ status: number; events: Event[]; raw: string }> {
  const res = await rawRequest(socket, 'GET', `/events?${query}`);
  const events = res.status === 200 ? res.body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event) : [];
  return { status: res.status, events, raw: res.body };
}

describe('GET /events', { timeout: 60_000 }, () => {
  let daemon: TestDaemon;
  let work: string;
  let tar: Buffer;
  let imageId: string;
  let start: string;
  before(async () => {
    daemon = await startDaemon({ storageDriver: 'vfs' });
    work = await mkdtemp(join(tmpdir(), 'berth-events-'));
    await writeFile(join(work, 'hello'), 'hi\n');
    tar = execFileSync('tar', ['-C', work, '-c', 'hello']);
    start = nowSeconds();
    const imported = await rawRequest(daemon.socket, 'POST', `/images/create?fromSrc=-&repo=small:1&changes=${encodeURIComponent('LABEL team=web')}`, tar as unknown as string);
    imageId = JSON.parse(imported.body).status;
    await rawRequest(daemon.socket, 'POST', `/images/small:1/tag?repo=other&tag=2`);
    await rawRequest(daemon.socket, 'DELETE', '/images/other:2');
  });
  after(async () => {
    await daemon?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('since and until in the past: the kept events, in Docker\'s wire shape, then the end', async () => {
    const started = Date.now();
    const { status, events, raw } = await readAll(daemon.socket, `since=${start}&until=${untilNow()}`);
    assert.equal(status, 200);
    assert.ok(Date.now() - started < 2000, 'it ended without waiting');
    assert.deepEqual(events.map((e) => `${e.Type} ${e.Action} ${e.Actor.Attributes.name}`), [
      'image tag small:1',
      `image import ${imageId}`,
      'image tag other:2',
      `image untag ${imageId}`,
    ]);
    const first = events[1];
    assert.deepEqual(Object.keys(first), ['status', 'id', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
    assert.equal(first.status, 'import');
    assert.equal(first.id, imageId);
    assert.equal(first.Actor.ID, imageId);
    assert.equal(first.Actor.Attributes.team, 'web', 'the image labels are attributes');
    assert.equal(first.scope, 'local');
    const nano = raw.match(/"timeNano":(\d+)/)![1];
    assert.equal(nano.length, 19, 'timeNano is written as an exact int64');
    assert.equal(BigInt(nano) / 1_000_000_000n, BigInt(first.time));
  });

  test('filters: type, event, image (with or without tag, or id), label, container', async () => {
    const range = `since=${start}&until=${untilNow()}`;
    const actions = async (f: Record<string, string[]>) => (await readAll(daemon.socket, `${range}&filters=${filters(f)}`)).events.map((e) => e.Action);
    assert.deepEqual(await actions({ event: ['tag'] }), ['tag', 'tag']);
    assert.deepEqual(await actions({ type: ['container'] }), []);
    assert.deepEqual(await actions({ type: ['image'], event: ['untag', 'import'] }), ['import', 'untag']);
    assert.deepEqual(await actions({ scope: ['local'], event: ['import'] }), ['import']);
    assert.deepEqual(await actions({ scope: ['swarm'] }), []);
    assert.deepEqual(await actions({ image: ['small'] }), ['tag']);
    assert.deepEqual(await actions({ image: ['other:2'] }), ['tag']);
    assert.deepEqual(await actions({ image: [imageId] }), ['tag', 'import', 'tag', 'untag']);
    assert.deepEqual(await actions({ label: ['team=web'] }), ['tag', 'import', 'tag', 'untag']);
    assert.deepEqual(await actions({ label: ['team=db'] }), []);
    assert.deepEqual(await actions({ container: ['abc'] }), [], 'a container filter leaves image events out, as in dockerd');
  });

  test('live events stream as they happen; a future until ends the stream then', async () => {
    const stream = await openEvents(daemon.socket, `filters=${filters({ type: ['image'], event: ['tag', 'delete'] })}`);
    try {
      assert.equal(stream.res.statusCode, 200);
      assert.equal(stream.res.headers['content-type'], 'application/json');
      assert.equal(JSON.parse((await rawRequest(daemon.socket, 'GET', '/info')).body).NEventsListener, 1);
      await rawRequest(daemon.socket, 'POST', '/images/small:1/tag?repo=live');
      const line = await stream.next();
      const event = JSON.parse(line!) as Event;
      assert.equal(event.Action, 'tag');
      assert.equal(event.Actor.Attributes.name, 'live:latest');
      await rawRequest(daemon.socket, 'DELETE', '/images/live');
    } finally {
      stream.close();
    }
    // A client that goes away stops being a listener.
    let listeners = -1;
    for (let i = 0; i < 40 && listeners !== 0; i++, await new Promise((r) => setTimeout(r, 25))) {
      listeners = JSON.parse((await rawRequest(daemon.socket, 'GET', '/info')).body).NEventsListener;
    }
    assert.equal(listeners, 0);

    const until = (Date.now() + 1500) / 1000;
    const opened = Date.now();
    const bounded = await openEvents(daemon.socket, `since=${nowSeconds()}&until=${until.toFixed(3)}`);
    await rawRequest(daemon.socket, 'POST', '/images/small:1/tag?repo=during');
    assert.equal(JSON.parse((await bounded.next())!).Actor.Attributes.name, 'during:latest');
    assert.equal(await bounded.next(), undefined, 'the stream ends at until');
    const waited = Date.now() - opened;
    assert.ok(waited >= 1300 && waited < 4000, `ended after ${waited} ms`);
  });

  test('prune and delete events', async () => {
    const since = nowSeconds();
    await rawRequest(daemon.socket, 'DELETE', '/images/during');
    await rawRequest(daemon.socket, 'POST', `/images/prune?filters=${filters({ dangling: ['false'] })}`);
    const { events } = await readAll(daemon.socket, `since=${since}&until=${untilNow()}`);
    assert.deepEqual(events.map((e) => e.Action), ['untag', 'untag', 'delete', 'prune']);
    assert.equal(events[2].Actor.ID, imageId);
    assert.equal(events[3].Actor.ID, '');
    assert.match(events[3].Actor.Attributes.reclaimed, /^\d+$/);
    assert.ok(Number(events[3].Actor.Attributes.reclaimed) > 0);
  });

  test('bad times are 400; since after until is refused', async () => {
    const bad = await readAll(daemon.socket, 'since=yesterday');
    assert.equal(bad.status, 400);
    const reversed = await rawRequest(daemon.socket, 'GET', '/events?since=200&until=100');
    assert.equal(reversed.status, 400);
    assert.equal(JSON.parse(reversed.body).message, '`since` time (200) cannot be after `until` time (100)');
  });
});
