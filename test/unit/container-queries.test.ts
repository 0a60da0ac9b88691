import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Query } from '../../src/api/http.js';
import { decodeKillSignal, decodeResize, decodeStopOptions, decodeWaitCondition } from '../../src/api/decode/container-queries.js';

const q = (text: string) => new Query(new URLSearchParams(text));

test('resize sizes are unsigned 16-bit numbers, as moby parses them (h=-1 is a 400)', () => {
  assert.deepEqual(decodeResize(q('h=40&w=120')), { height: 40, width: 120 });
  assert.throws(() => decodeResize(q('h=-1&w=80')), /strconv\.ParseUint: parsing "-1": invalid syntax/);
  assert.throws(() => decodeResize(q('h=70000&w=80')), /value out of range/);
  assert.throws(() => decodeResize(q('w=80')), /parsing "": invalid syntax/);
});

test('stop, kill and wait queries are typed before the engine sees them', () => {
  assert.deepEqual(decodeStopOptions(q('t=5&signal=SIGUSR1')), { timeoutSeconds: 5, signal: 10 });
  assert.deepEqual(decodeStopOptions(q('')), { timeoutSeconds: undefined, signal: undefined });
  assert.throws(() => decodeStopOptions(q('t=abc')), /strconv\.Atoi: parsing "abc": invalid syntax/);
  assert.throws(() => decodeStopOptions(q('t=99999999999999999999')), /strconv\.Atoi: parsing "99999999999999999999": value out of range/);
  assert.throws(() => decodeStopOptions(q('t=-9223372036854775809')), /value out of range/);
  assert.deepEqual(decodeStopOptions(q('t=-1')), { timeoutSeconds: -1, signal: undefined });
  assert.deepEqual(decodeStopOptions(q('t=%2B3')), { timeoutSeconds: 3, signal: undefined });
  assert.equal(decodeStopOptions(q('t=9223372036854775807')).timeoutSeconds, 2 ** 63);
  assert.equal(decodeKillSignal(q('')), 9);
  assert.equal(decodeKillSignal(q('signal=hup')), 1);
  assert.throws(() => decodeKillSignal(q('signal=NOPE')), /Invalid signal: NOPE/);
  assert.equal(decodeWaitCondition(q('condition=removed')), 'removed');
  assert.throws(() => decodeWaitCondition(q('condition=later')), /invalid condition: "later"/);
});
