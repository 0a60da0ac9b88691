import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boolFilter, globMatch, labelsMatch, parseFilters, regexFilter } from '../../src/engine/filters.js';

const query = (filters: unknown) => JSON.stringify(filters);

test('filters come as lists or as maps of true, and unknown keys are refused', () => {
  assert.deepEqual(parseFilters(query({ status: ['exited'] }), ['status']), { status: ['exited'] });
  assert.deepEqual(parseFilters(query({ reference: { busybox: true, alpine: false } }), ['reference']), { reference: ['busybox', 'alpine'] });
  assert.throws(() => parseFilters(query({ colour: ['red'] }), ['status']), /invalid filter 'colour'/);
  assert.deepEqual(parseFilters(undefined, ['status']), {});
  assert.throws(() => parseFilters('{"status":', ['status']), /invalid filter/);
  assert.throws(() => parseFilters(query({ status: [1] }), ['status']), /invalid filter 'status'/);
});

test('boolean filters take true/1/false/0, one meaning only', () => {
  assert.equal(boolFilter(parseFilters(query({ dangling: ['1'] })), 'dangling'), true);
  assert.equal(boolFilter(parseFilters(query({ dangling: ['false', '0'] })), 'dangling'), false);
  assert.equal(boolFilter({}, 'dangling'), undefined);
  assert.throws(() => boolFilter(parseFilters(query({ dangling: ['yes'] })), 'dangling'), /invalid filter 'dangling=yes'/);
  assert.throws(() => boolFilter(parseFilters(query({ dangling: ['true', '0'] })), 'dangling'), /invalid filter 'dangling=true,0'/);
  assert.equal(boolFilter(parseFilters(query({ dangling: ['true', 'maybe'] })), 'dangling'), true, 'one valid value is enough, as in moby');
  assert.throws(() => boolFilter(parseFilters(query({ dangling: [] })), 'dangling'), /invalid filter 'dangling='/);
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
