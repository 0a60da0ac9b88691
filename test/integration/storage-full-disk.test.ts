/** A full disk under the layer store: errors say so, nothing else breaks, recovery never stops the daemon. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mount, MNT_DETACH, umount2 } from '../../src/native/index.js';
import { storageDriverFactory } from '../../src/storage/driver.js';
import '../../src/storage/drivers/overlay/index.js';
import { LayerStore } from '../../src/storage/layer-store.js';
import { unmountAllUnder } from '../../src/storage/mounts.js';
import { buildTar, streamOf } from '../unit/archive-fixtures.js';
import { fillDisk } from '../helpers/full-disk.js';

let root: string;
let mounted = false;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-full-disk-'));
  mount('tmpfs', root, 'tmpfs', 0, 'size=20m');
  mounted = true;
});
after(async () => {
  if (!root) return;
  await unmountAllUnder(join(root, 'overlay')).catch(() => {});
  if (mounted) umount2(root, MNT_DETACH);
  await rm(root, { recursive: true, force: true });
});

async function openStore(warnings: string[] = []): Promise<LayerStore> {
  const driver = await storageDriverFactory('overlay')!(join(root, 'overlay'));
  return LayerStore.open(join(root, 'layers'), driver, { warn: (msg) => warnings.push(msg) });
}


test('a full disk fails layer making with "no space left on device" and leaves the data root usable', async () => {
  let store = await openStore();
  const base = await store.register(streamOf(await buildTar([{ name: 'etc/hostname', content: 'base' }])), null);
  const linksBefore = await readdir(join(root, 'overlay', 'l'));
  assert.equal(linksBefore.length, 1);

  await fillDisk(join(root, 'filler'));
  await assert.rejects(store.createContainerLayer('c1', base.chainId), /no space left on device/);
  await assert.rejects(
    store.register(streamOf(await buildTar([{ name: 'big', content: Buffer.alloc(1 << 20, 2) }])), base.chainId),
    /no space left on device/,
  );
  assert.deepEqual(await readdir(join(root, 'overlay', 'l')), linksBefore);
  assert.equal(existsSync(join(root, 'overlay', 'c1')), false);

  // What the old non-atomic link write left after ENOSPC: an empty link file, pending.
  const halfMade = 'e'.repeat(32);
  await mkdir(join(root, 'overlay', halfMade, 'diff'), { recursive: true });
  await writeFile(join(root, 'overlay', halfMade, 'link'), '');
  await writeFile(join(root, 'layers', 'pending', halfMade), '');
  // And a marker no layer can have: recovery logs it and goes on.
  await writeFile(join(root, 'layers', 'pending', 'not a layer id'), '');

  await rm(join(root, 'filler'));
  await rm(join(root, 'filler.last'), { force: true });
  const warnings: string[] = [];
  store = await openStore(warnings);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.equal(existsSync(join(root, 'overlay', halfMade)), false);
  assert.deepEqual(await readdir(join(root, 'overlay', 'l')), linksBefore);
  assert.deepEqual(await readdir(join(root, 'layers', 'pending')), ['not a layer id']);

  await store.createContainerLayer('c1', base.chainId);
  const rootfs = await store.mountContainerLayer('c1');
  assert.equal(await readFile(join(rootfs, 'etc/hostname'), 'utf8'), 'base');
  await store.unmountContainerLayer('c1');
  // Reopened, nothing retains the base layer: it goes with the last container on it.
  await store.removeContainerLayer('c1');
  assert.deepEqual(store.list(), []);
});
