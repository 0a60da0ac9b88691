import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMER_MS, setLongTimeout, settlesWithin } from '../../src/common/long-timer.js';

test('a delay beyond setTimeout\'s 2^31-1 ms is waited for in full, not fired at once (issue 12 item 6)', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let fired = false;
    setLongTimeout(() => (fired = true), 2_147_484 * 1000); // docker stop -t 2147484
    mock.timers.tick(1000);
    assert.equal(fired, false);
    mock.timers.tick(MAX_TIMER_MS - 1000);
    assert.equal(fired, false, 'not at 2^31-1 ms');
    mock.timers.tick(2_147_484 * 1000 - MAX_TIMER_MS - 1);
    assert.equal(fired, false);
    mock.timers.tick(1);
    assert.equal(fired, true);
  } finally {
    mock.timers.reset();
  }
});

test('a cancelled long timer never fires; settlesWithin reports which came first', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let fired = false;
    const cancel = setLongTimeout(() => (fired = true), MAX_TIMER_MS + 10);
    mock.timers.tick(MAX_TIMER_MS);
    cancel();
    mock.timers.tick(100);
    assert.equal(fired, false);
  } finally {
    mock.timers.reset();
  }
  assert.equal(await settlesWithin(Promise.resolve(), 1000), true);
  assert.equal(await settlesWithin(new Promise(() => {}), 5), false);
});
