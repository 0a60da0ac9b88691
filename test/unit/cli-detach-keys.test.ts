import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachKeysFilter, parseDetachKeys } from '../../src/cli/detach-keys.js';

function run(keys: string, chunks: string[]): { passed: string; detached: boolean } {
  let detached = false;
  const filter = new DetachKeysFilter(parseDetachKeys(keys), () => (detached = true));
  let passed = '';
  filter.on('data', (d: Buffer) => (passed += d.toString('latin1')));
  for (const chunk of chunks) filter.write(Buffer.from(chunk, 'latin1'));
  return { passed, detached };
}

test('detach keys parse as docker parses them', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [0x10, 0x11]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,x')], [0x01, 0x78]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-_')], [0x00, 0x1f]);
  assert.throws(() => parseDetachKeys('ctrl-p,meta-q'), /invalid detach keys/);
});

test('the sequence detaches and is not passed on, even split across reads', () => {
  assert.deepEqual(run('ctrl-p,ctrl-q', ['ls\r\x10', '\x11after']), { passed: 'ls\r', detached: true });
});

test('a broken sequence is passed on as typed', () => {
  assert.deepEqual(run('ctrl-p,ctrl-q', ['a\x10b', '\x10\x10\x11']), { passed: 'a\x10b\x10', detached: true });
  assert.deepEqual(run('ctrl-p,ctrl-q', ['\x10x']), { passed: '\x10x', detached: false });
});
