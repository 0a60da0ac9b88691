import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/common/logger.js';
import { wrap } from '../../src/common/errors.js';

test('a logged error keeps its stack, errno code and chain of causes', () => {
  const lines: string[] = [];
  const logger = createLogger('debug', (line) => lines.push(line));
  const root = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  logger.error('request failed', { err: wrap(root, 'saving container abc'), url: '/x' });
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.level, 'error');
  assert.equal(entry.url, '/x');
  assert.equal(entry.err.message, 'saving container abc: ENOSPC: no space left on device, write');
  assert.match(entry.err.stack, /at .*logger\.test/);
  assert.equal(entry.err.cause.message, 'ENOSPC: no space left on device, write');
  assert.equal(entry.err.cause.code, 'ENOSPC');
  assert.match(entry.err.cause.stack, /at /);
});

test('a cause cycle does not stop the logger', () => {
  const lines: string[] = [];
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  (a as { cause?: unknown }).cause = b;
  createLogger('info', (line) => lines.push(line)).warn('loop', { err: a });
  assert.equal(JSON.parse(lines[0]).err.cause.message, 'b');
});
