/**
 * The classic builder's step cache file: entries recorded while a write is under way go out
 * together in the next one (a build does not wait per step), every entry reaches the file, and
 * a failed write surfaces through flush, which a build awaits before it reports success.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildCache } from '../../src/engine/build/builder-cache.js';

const scratch = await mkdtemp(join(tmpdir(), 'berth-build-cache-'));
after(() => rm(scratch, { recursive: true, force: true }));

const saved = async (dir: string) => JSON.parse(await readFile(join(dir, 'cache.json'), 'utf8')).steps as Record<string, string>;

test('entries remembered at once are written together, all of them, and survive a reopen', async () => {
  const dir = await mkdtemp(join(scratch, 'coalesce-'));
  const cache = await BuildCache.open(dir);
  const remembered = Array.from({ length: 20 }, (_, i) => cache.remember(`sha256:key${i}`, `sha256:image${i}`));
  // One write carries them all (it starts after the calls), rather than twenty in a row.
  assert.equal(new Set(remembered).size, 1);
  await Promise.all(remembered);
  await cache.flush();
  assert.equal(Object.keys(await saved(dir)).length, 20);
  const reopened = await BuildCache.open(dir);
  assert.equal(reopened.lookup('sha256:key19', () => true), 'sha256:image19');
});

test('an entry made while a write is under way reaches the file in the next write', async () => {
  const dir = await mkdtemp(join(scratch, 'during-'));
  const cache = await BuildCache.open(dir);
  const first = cache.remember('sha256:a', 'sha256:imageA');
  await new Promise((resolve) => setImmediate(resolve)); // the first write has started
  const second = cache.remember('sha256:b', 'sha256:imageB');
  await Promise.all([first, second]);
  await cache.flush();
  assert.deepEqual(await saved(dir), { 'sha256:a': 'sha256:imageA', 'sha256:b': 'sha256:imageB' });
});

test('a failed write rejects flush, which writes the entries again; a later write carries every entry', async () => {
  const dir = await mkdtemp(join(scratch, 'failing-'));
  const cache = await BuildCache.open(dir);
  await rm(dir, { recursive: true });
  // writeJsonAtomic makes the folder when missing: a file in its place makes the write fail.
  await writeFile(dir, 'not a folder');
  await assert.rejects(cache.remember('sha256:x', 'sha256:imageX'));
  await assert.rejects(cache.flush());
  await rm(dir);
  // Nothing new recorded: the flush of the next build writes what the failed write held.
  await cache.flush();
  assert.deepEqual(await saved(dir), { 'sha256:x': 'sha256:imageX' });
  await cache.remember('sha256:y', 'sha256:imageY');
  await cache.flush();
  assert.deepEqual(await saved(dir), { 'sha256:x': 'sha256:imageX', 'sha256:y': 'sha256:imageY' });
});
