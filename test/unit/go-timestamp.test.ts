import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goTimestamp } from '../../src/common/go-timestamp.js';

const NOW = Date.UTC(2024, 0, 1, 12, 0, 0);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

test('durations count back from now, as the docker CLI and dockerd read them', () => {
  assert.equal(goTimestamp('10m', NOW), ns(NOW - 600_000));
  assert.equal(goTimestamp('1h30m', NOW), ns(NOW - 5_400_000));
  assert.equal(goTimestamp('1.5s', NOW), ns(NOW - 1500));
  assert.equal(goTimestamp('0s', NOW), ns(NOW));
  assert.equal(goTimestamp('-1h', NOW), ns(NOW + 3_600_000), 'a negative duration is in the future');
});

test('Unix seconds, with a fraction up to nanoseconds; "0" is the epoch, not a duration', () => {
  assert.equal(goTimestamp('1700000000', NOW), 1_700_000_000_000_000_000n);
  assert.equal(goTimestamp('1700000000.000000001', NOW), 1_700_000_000_000_000_001n);
  assert.equal(goTimestamp('0', NOW), 0n);
});

test('RFC 3339 dates and date-times; anything else is no time', () => {
  assert.equal(goTimestamp('2024-01-01T11:00:00Z', NOW), ns(Date.UTC(2024, 0, 1, 11)));
  assert.equal(goTimestamp('2024-01-01T13:00:00+02:00', NOW), ns(Date.UTC(2024, 0, 1, 11)));
  assert.equal(goTimestamp('2023-12-31', NOW), ns(Date.parse('2023-12-31')));
  for (const bad of ['yesterday', '12 May 2024', '10 minutes', '', '1h-', '2024-13-45']) assert.equal(goTimestamp(bad, NOW), undefined, bad);
});
