import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, type EngineEvent } from '../../src/engine/events/event-bus.js';
import { eventFilter } from '../../src/engine/events/event-filter.js';
import { openEventFeed } from '../../src/engine/events/event-feed.js';

const event = (type: EngineEvent['type'], action: string, actorId: string, attributes: Record<string, string> = {}): EngineEvent =>
  ({ type, action, actorId, attributes, timeNano: 1n });

const ID = 'f'.repeat(64);

test('container filters match an id prefix or the name; image filters the image with or without tag', () => {
  const started = event('container', 'start', ID, { name: 'web', image: 'busybox:latest' });
  assert.ok(eventFilter({ container: ['web'] })(started));
  assert.ok(eventFilter({ container: ['fff'] })(started));
  assert.ok(!eventFilter({ container: ['db'] })(started));
  assert.ok(eventFilter({ image: ['busybox'] })(started));
  assert.ok(eventFilter({ image: ['busybox:latest'] })(started));
  assert.ok(!eventFilter({ image: ['busy'] })(started), 'image names match exactly');
  assert.ok(eventFilter({ type: ['container'], event: ['start', 'die'] })(started));
  assert.ok(!eventFilter({ type: ['image'] })(started));
  assert.ok(eventFilter({ label: ['name=web'] })(started), 'labels match the attributes');
  assert.ok(eventFilter({ daemon: ['fff'] })(started), 'every key applies to every event, as in dockerd');
});

test('exec and health actions carry a suffix and match by prefix', () => {
  const exec = event('container', 'exec_start: sh -c true', ID);
  assert.ok(eventFilter({ event: ['exec_start'] })(exec));
  assert.ok(!eventFilter({ event: ['start'] })(exec));
  assert.ok(eventFilter({ event: ['health_status'] })(event('container', 'health_status: healthy', ID)));
});

test('a feed replays kept events only when since or until is given, and stops at until', () => {
  const bus = new EventBus(4);
  const first = bus.publish('image', 'tag', 'sha256:a', { name: 'a:1' });
  const seen: string[] = [];
  const plain = openEventFeed(bus, { filters: {} }, (e) => seen.push(e.action));
  assert.deepEqual(plain.past, []);
  assert.ok(plain.live);
  const replay = openEventFeed(bus, { sinceNano: first.timeNano - 1n, filters: { event: ['tag'] } }, () => {});
  assert.deepEqual(replay.past.map((e) => e.action), ['tag']);
  const ended = openEventFeed(bus, { untilNano: first.timeNano, filters: {} }, () => assert.fail('no live events after until'));
  assert.equal(ended.live, false);
  bus.publish('image', 'untag', 'sha256:a');
  assert.deepEqual(seen, ['untag']);
  assert.equal(bus.listenerCount, 2);
  for (const feed of [plain, replay, ended]) feed.close();
  assert.equal(bus.listenerCount, 0);
});
