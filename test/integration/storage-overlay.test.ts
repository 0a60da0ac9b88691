import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKind } from '../../src/common/errors.js';
import { storageDriverFactory } from '../../src/storage/driver.js';
import '../../src/storage/drivers/overlay/index.js';
import { unmountAllUnder } from '../../src/storage/mounts.js';
import { buildTar, streamOf } from '../unit/archive-fixtures.js';
import { runStorageDriverSuite } from './storage-driver-suite.js';

runStorageDriverSuite('overlay');

test('overlay mounts a chain of 128 lower layers (Docker’s limit) and refuses a deeper one', { timeout: 300_000 }, async (t) => {
  // A long root, as real data roots have: the mount options must not depend on its length.
  const root = await mkdtemp(join(tmpdir(), `berth-overlay-deep-${'x'.repeat(60)}-`));
  t.after(async () => {
    await unmountAllUnder(root);
    await rm(root, { recursive: true, force: true });
  });
  const driver = await storageDriverFactory('overlay')!(root);
  let parent: string | null = null;
  for (let i = 1; i <= 128; i++) {
    const id = `layer${i}`;
    await driver.create(id, parent);
    // Files at the bottom, middle and top prove every lower is in the mount; the rest stay empty.
    if ([1, 64, 128].includes(i)) await driver.applyDiff(id, streamOf(await buildTar([{ name: `f${i}`, content: String(i) }])));
    parent = id;
  }
  await driver.create('container', parent, { writable: true });
  const rootfs = await driver.get('container');
  try {
    assert.deepEqual((await readdir(rootfs)).sort(), ['f1', 'f128', 'f64']);
    for (const i of [1, 64, 128]) assert.equal(await readFile(join(rootfs, `f${i}`), 'utf8'), String(i));
  } finally {
    await driver.put('container');
  }
  await assert.rejects(driver.create('too-deep', 'container'), (err) => {
    assert.ok(isKind(err, 'invalid-parameter'));
    assert.match((err as Error).message, /max depth exceeded/);
    return true;
  });
  await driver.cleanup();
});
