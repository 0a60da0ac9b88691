import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitWatcher, readExitCode, readOomFlag } from '../../src/runtime/exit-files.js';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-exits-'));
});
after(() => rm(base, { recursive: true, force: true }));

/** Writes an exit file the way conmon does: a temporary name, then a rename. */
async function writeExit(dir: string, id: string, code: number): Promise<void> {
  const temporary = join(dir, `${id}.Ab12Cd`);
  await writeFile(temporary, String(code));
  await rename(temporary, join(dir, id));
}

function nextExit(watcher: ExitWatcher): Promise<[string, number]> {
  return once(watcher, 'exit') as Promise<[string, number]>;
}

test('exits recorded while nobody watched are reported at start', async (t) => {
  const dir = join(base, 'scan');
  await mkdir(dir);
  await writeExit(dir, 'aaa', 137);
  const watcher = new ExitWatcher(dir);
  t.after(() => watcher.close());
  const exit = nextExit(watcher);
  await watcher.start();
  assert.deepEqual(await exit, ['aaa', 137]);
});

test('each exit file is reported once; a new run of the same container is reported again', async (t) => {
  const dir = join(base, 'watch');
  const watcher = new ExitWatcher(dir);
  t.after(() => watcher.close());
  const seen: Array<[string, number]> = [];
  watcher.on('exit', (id: string, code: number) => seen.push([id, code]));
  await watcher.start();

  let exit = nextExit(watcher);
  await writeExit(dir, 'bbb', 3);
  assert.deepEqual(await exit, ['bbb', 3]);
  await unlink(join(dir, 'bbb'));
  exit = nextExit(watcher);
  await writeExit(dir, 'bbb', 0);
  assert.deepEqual(await exit, ['bbb', 0]);
  await new Promise((resolve) => setTimeout(resolve, 50)); // room for a duplicate to show up
  assert.deepEqual(seen, [
    ['bbb', 3],
    ['bbb', 0],
  ]);
});

test('readExitCode and readOomFlag', async () => {
  const dir = join(base, 'read');
  await mkdir(dir);
  assert.equal(await readExitCode(dir, 'ccc'), undefined);
  await writeExit(dir, 'ccc', 42);
  assert.equal(await readExitCode(dir, 'ccc'), 42);
  assert.equal(await readOomFlag(dir), false);
  await writeFile(join(dir, 'oom'), '');
  assert.equal(await readOomFlag(dir), true);
});
