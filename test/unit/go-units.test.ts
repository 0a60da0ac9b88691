import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHumanSize, ramInBytes } from '../../src/common/go-units.js';

test('go-units sizes: decimal and binary prefixes, spellings, and its error messages', () => {
  assert.equal(fromHumanSize('10m'), 10_000_000);
  assert.equal(fromHumanSize('20MB'), 20_000_000);
  assert.equal(fromHumanSize('1.5k'), 1500);
  assert.equal(fromHumanSize('512'), 512);
  assert.equal(fromHumanSize('3 b'), 3);
  assert.equal(ramInBytes('64m'), 64 * 1024 ** 2);
  assert.equal(ramInBytes('1 GiB'), 1024 ** 3);
  assert.equal(ramInBytes('2t'), 2 * 1024 ** 4);
  assert.throws(() => ramInBytes('m'), /^Error: invalid size: 'm'$/);
  assert.throws(() => ramInBytes('1q'), /^Error: invalid suffix: 'q'$/);
  assert.throws(() => ramInBytes('1bb'), /^Error: invalid suffix: 'bb'$/);
  assert.throws(() => ramInBytes('1mx'), /^Error: invalid suffix: 'mx'$/);
  assert.throws(() => ramInBytes('-1m'), /^Error: invalid size: '-1m'$/);
  assert.throws(() => fromHumanSize('1..2m'), /strconv.ParseFloat: parsing "1..2": invalid syntax/);
});
