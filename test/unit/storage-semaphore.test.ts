import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from '../../src/storage/semaphore.js';

const tick = () => new Promise((r) => setImmediate(r));

test('at most `limit` holders; waiters are let in in arrival order, one per release', async () => {
  const slots = new Semaphore(2);
  const entered: number[] = [];
  const releases: Array<() => void> = [];
  for (let i = 0; i < 5; i++) {
    void slots.acquire().then((release) => {
      entered.push(i);
      releases.push(release);
    });
  }
  await tick();
  assert.deepEqual(entered, [0, 1]);
  releases[0]!();
  releases[0]!(); // a second call of the same release frees nothing more
  await tick();
  assert.deepEqual(entered, [0, 1, 2]);
  releases[1]!();
  releases[2]!();
  await tick();
  assert.deepEqual(entered, [0, 1, 2, 3, 4]);
});

test('a waiter whose signal aborts leaves the queue and never takes a place', async () => {
  const slots = new Semaphore(1);
  const first = await slots.acquire();
  const gone = new AbortController();
  const abandoned = slots.acquire(gone.signal);
  let lastIn = false;
  const last = slots.acquire().then((release) => {
    lastIn = true;
    return release;
  });
  gone.abort(new Error('client went away'));
  await assert.rejects(abandoned, /client went away/);
  await tick();
  assert.equal(lastIn, false);
  first();
  (await last)();
  assert.equal(lastIn, true);
  // Everything released: the single place is free again.
  (await slots.acquire())();
});

test('tryAcquire takes a free place at once and never waits: undefined while every place is held', async () => {
  const slots = new Semaphore(1);
  const release = slots.tryAcquire();
  assert.ok(release);
  assert.equal(slots.tryAcquire(), undefined);
  let waiterIn = false;
  const waiter = slots.acquire().then((next) => {
    waiterIn = true;
    return next;
  });
  release();
  // The waiter takes over the released place: a try in between finds none.
  assert.equal(slots.tryAcquire(), undefined);
  (await waiter)();
  assert.ok(waiterIn);
  assert.ok(slots.tryAcquire());
});
