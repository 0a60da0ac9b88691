/**
 * The kept build root (builder-contexts.ts): of two builds that succeed together, one root is kept
 * and the other goes, with its body; a root that cannot be kept is removed, not leaked; prune
 * forgets the kept root.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BuildContexts } from '../../src/engine/build/builder-contexts.js';
import { buildTar } from './archive-fixtures.js';

const scratch = await mkdtemp(join(tmpdir(), 'berth-kept-roots-'));
after(() => rm(scratch, { recursive: true, force: true }));

// Made once: the same bytes each time they are sent.
const tars = new Map<string, Buffer>();
for (const text of ['a', 'b', 'earlier']) tars.set(text, await buildTar([{ name: 'Dockerfile', content: Buffer.from(`FROM scratch\n# ${text}\n`) }]));
const context = async (text: string) => Readable.from([tars.get(text)!]);

test('two builds that succeed together keep one root; the other goes with its body', async () => {
  const dir = join(scratch, 'together');
  await mkdir(dir);
  const contexts = new BuildContexts(dir);
  // A root kept by an earlier build, which nothing uses: the first of the two retires it.
  const earlier = await contexts.open(await context('earlier'));
  await earlier.keep();
  await earlier.dispose();
  const [a, b] = await Promise.all([contexts.open(await context('a')), contexts.open(await context('b'))]);
  await Promise.all([a.keep(), b.keep()]);
  await Promise.all([a.dispose(), b.dispose()]);
  const left = (await readdir(dir)).sort();
  assert.equal(left.length, 2, `left: ${left.join(', ')}`);
  assert.equal(left[1], `${left[0]}.tar`);
  // The kept one is used again for the same bytes.
  const again = await contexts.open(await context(left[0] === a.root.split('/').pop() ? 'a' : 'b'));
  assert.equal(again.root, join(dir, left[0]!));
  await again.dispose();
  await contexts.forgetKept();
  assert.deepEqual(await readdir(dir), []);
});
