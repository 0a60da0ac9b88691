import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatch, labelsMatch, parseFilters, regexFilter } from '../../src/api/filters.js';
import { Query } from '../../src/api/http.js';

const query = (filters: unknown) => new Query(new URLSearchParams({ filters: JSON.stringify(filters) }));

test('filters come as lists or as maps of true, and unknown keys are refused', () => {
  assert.deepEqual(parseFilters(query({ status: ['exited'] }), ['status']), { status: ['exited'] });
  assert.deepEqual(parseFilters(query({ reference: { busybox: true } }), ['reference']), { reference: { busybox: true } });
  assert.throws(() => parseFilters(query({ colour: ['red'] }), ['status']), /invalid filter 'colour'/);
  assert.deepEqual(parseFilters(new Query(new URLSearchParams()), ['status']), {});
});

test('glob patterns match as Go path.Match does', () => {
  assert.ok(globMatch('busybox', 'busybox'));
  assert.ok(globMatch('busy*', 'busybox'));
  assert.ok(globMatch('b?sybox:*', 'busybox:latest'));
  assert.ok(!globMatch('*', 'library/busybox'), '* does not cross a slash');
  assert.ok(globMatch('[a-c]b', 'bb'));
  assert.ok(!globMatch('busybox', 'busybox2'));
  assert.ok(globMatch('a.b', 'a.b') && !globMatch('a.b', 'axb'), 'dots are literal');
});

test('labels by key or by key=value; names by regular expression', () => {
  assert.ok(labelsMatch({ a: '1', b: '2' }, ['a', 'b=2']));
  assert.ok(!labelsMatch({ a: '1' }, ['a=2']));
  assert.ok(!labelsMatch(null, ['a']));
  assert.ok(labelsMatch(null, []));
  assert.ok(regexFilter('^/we').test('/web'));
  assert.ok(!regexFilter('(').test('('), 'a pattern that does not compile matches nothing, as in moby');
});
