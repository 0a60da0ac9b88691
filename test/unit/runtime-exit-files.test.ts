import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitWatcher, readExit, readExitCode, readOomFlag } from '../../src/runtime/exit-files.js';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-exits-'));
});
after(() => rm(base, { recursive: true, force: true }));

/** Writes an exit file the way conmon does: a temporary name, then a rename. */
async function writeExit(dir: string, id: string, code: number, time?: Date): Promise<void> {
  const temporary = join(dir, `${id}.Ab12Cd`);
  await writeFile(temporary, String(code));
  if (time) await utimes(temporary, time, time);
  await rename(temporary, join(dir, id));
}

function nextExit(watcher: ExitWatcher): Promise<[string, number]> {
  return (once(watcher, 'exit') as Promise<[string, number, Date]>).then(([id, code]) => [id, code]);
}

test('exits recorded while nobody watched are reported at start, with the time of the exit file', async (t) => {
  const dir = join(base, 'scan');
  await mkdir(dir);
  const ended = new Date('2026-01-02T03:04:05.678Z');
  await writeExit(dir, 'aaa', 137, ended);
  const watcher = new ExitWatcher(dir);
  t.after(() => watcher.close());
  const exit = once(watcher, 'exit');
  await watcher.start();
  assert.deepEqual(await exit, ['aaa', 137, ended]);
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

test('the watcher survives losing its folder: exits written after it is back are reported', async (t) => {
  const dir = join(base, 'lost');
  const watcher = new ExitWatcher(dir);
  t.after(() => watcher.close());
  const errors: unknown[] = [];
  watcher.on('error', (err) => errors.push(err));
  await watcher.start();
  await rm(dir, { recursive: true });
  await mkdir(dir);
  const exit = nextExit(watcher);
  await writeExit(dir, 'ddd', 5);
  assert.deepEqual(await exit, ['ddd', 5]);
});

test('a listener that throws does not stop later exits from being reported', async (t) => {
  const dir = join(base, 'throwing');
  const watcher = new ExitWatcher(dir);
  t.after(() => watcher.close());
  watcher.once('exit', () => {
    throw new Error('listener bug');
  });
  await watcher.start();
  const error = once(watcher, 'error');
  await writeExit(dir, 'eee', 1);
  assert.match(String((await error)[0]), /listener bug/);
  const exit = nextExit(watcher);
  await writeExit(dir, 'fff', 2);
  assert.deepEqual(await exit, ['fff', 2]);
});

test('readExit, readExitCode and readOomFlag', async () => {
  const dir = join(base, 'read');
  await mkdir(dir);
  assert.equal(await readExitCode(dir, 'ccc'), undefined);
  assert.equal(await readExit(dir, 'ccc'), undefined);
  await writeExit(dir, 'ccc', 42);
  assert.equal(await readExitCode(dir, 'ccc'), 42);
  assert.deepEqual(await readExit(dir, 'ccc'), { code: 42, finishedAt: (await stat(join(dir, 'ccc'))).mtime });
  assert.equal(await readOomFlag(dir), false);
  await writeFile(join(dir, 'oom'), '');
  assert.equal(await readOomFlag(dir), true);
});
