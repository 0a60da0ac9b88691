import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError } from '../../src/common/errors.js';
import { startCrunContainer } from '../../src/runtime/crun-start.js';

const run = promisify(execFile);
const kind = (expected: string) => (err: unknown) => err instanceof BerthError && err.kind === expected;

/** A state root with container `id`'s folder; with `fifo`, the exec fifo crun's init waits on. */
async function stateRoot(t: { after(fn: () => Promise<void>): void }, id: string, fifo: boolean): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-crun-start-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, id));
  if (fifo) await run('mkfifo', ['-m', '600', join(root, id, 'exec.fifo')]);
  return root;
}

test('start writes one byte to the waiting init and removes the fifo, so the container reads as running', async (t) => {
  const root = await stateRoot(t, 'c1', true);
  const fifo = join(root, 'c1', 'exec.fifo');
  // The init's end, as crun holds it from create on.
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    await startCrunContainer(root, 'c1');
    const buffer = Buffer.alloc(4);
    assert.equal(readSync(reader, buffer), 1);
    await assert.rejects(access(fifo), { code: 'ENOENT' });
  } finally {
    closeSync(reader);
  }
});

test('a second start is a conflict, a container crun does not hold is not found', async (t) => {
  const root = await stateRoot(t, 'c2', false);
  await assert.rejects(startCrunContainer(root, 'c2'), kind('conflict'));
  await assert.rejects(startCrunContainer(root, 'nosuch'), kind('not-found'));
});

test('an init that is gone (nobody reads the fifo) is a conflict at once, not a hang', async (t) => {
  const root = await stateRoot(t, 'c3', true);
  await assert.rejects(startCrunContainer(root, 'c3'), kind('conflict'));
});
