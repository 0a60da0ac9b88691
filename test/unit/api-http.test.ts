import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Query } from '../../src/api/http.js';
import { parseRequestTarget } from '../../src/api/request-target.js';
import { parseTimestamp } from '../../src/api/decode/timestamps.js';

test('boolean query values read as dockerd reads them', () => {
  const q = new Query(new URLSearchParams('a=1&b=True&c=NONE&d=&e=no&f=%20false%20&g=yes&h=FALSE'));
  assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => q.bool(k)), [true, true, false, false, false, false, true, false]);
  assert.equal(q.bool('absent', true), true);
  assert.equal(q.bool('d', true), false, 'given but empty is false, not the default');
});

test('request targets: origin-form paths and absolute URLs pass; others and bad escapes are 400s', () => {
  assert.equal(parseRequestTarget('/v1.50/images/json?all=1').pathname, '/v1.50/images/json');
  assert.equal(parseRequestTarget('/v1.50/images/json?all=1').searchParams.get('all'), '1');
  assert.equal(parseRequestTarget('http://docker/v1.50/_ping').pathname, '/v1.50/_ping');
  assert.equal(parseRequestTarget('/images/a%2Fb/json').pathname, '/images/a%2Fb/json', 'good escapes stay for the router to decode');
  for (const target of ['images/json', '*', '//host/x', '', undefined]) {
    assert.throws(() => parseRequestTarget(target), (err: Error & { kind?: string }) => err.kind === 'invalid-parameter' && /invalid URI for request/.test(err.message), String(target));
  }
  assert.throws(() => parseRequestTarget('/containers/%zz/json'), /invalid URL escape "%zz"/);
  assert.throws(() => parseRequestTarget('/containers/abc%/json'), /invalid URL escape "%\/j"/);
  assert.throws(() => parseRequestTarget('/images/%e0%a4/json'), /invalid URL escape/);
});

test('timestamps: Unix seconds with a fraction as the CLI sends them, or RFC 3339', () => {
  assert.equal(parseTimestamp('1700000000', 'since'), 1_700_000_000_000_000_000n);
  assert.equal(parseTimestamp('1700000000.5', 'since'), 1_700_000_000_500_000_000n);
  assert.equal(parseTimestamp('1700000000.000000001', 'since'), 1_700_000_000_000_000_001n);
  assert.equal(parseTimestamp('2023-11-14T22:13:20Z', 'until'), 1_700_000_000_000_000_000n);
  assert.equal(parseTimestamp(undefined, 'since'), undefined);
  assert.equal(parseTimestamp('', 'since'), undefined);
  assert.throws(() => parseTimestamp('yesterday', 'since'), /invalid value for since: yesterday/);
  assert.throws(() => parseTimestamp('12 May', 'until'), /invalid value for until/);
});
