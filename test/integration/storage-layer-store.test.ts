import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import { isKind } from '../../src/common/errors.js';
import { storageDriverFactory } from '../../src/storage/driver.js';
import '../../src/storage/drivers/overlay/index.js';
import '../../src/storage/drivers/vfs/index.js';
import { ContentStore } from '../../src/storage/content-store.js';
import { chainId, sha256Digest } from '../../src/storage/digest.js';
import { ingestPackedLayer } from '../../src/storage/layer-ingest.js';
import { LayerStore, MAX_CONCURRENT_UNPACKS } from '../../src/storage/layer-store.js';
import { storageRoot } from '../helpers/storage-root.js';
import { buildTar, streamOf } from '../unit/archive-fixtures.js';

const scratch = storageRoot('berth-layer-store-');

/** A fresh store on the overlay driver, in its own folder under the scratch folder. */
async function openStore(name: string): Promise<LayerStore> {
  const driver = await storageDriverFactory('overlay')!(join(scratch(), name, 'overlay'));
  return LayerStore.open(join(scratch(), name), driver);
}

test('registers layers by chain ID from plain or gzipped tars', async () => {
  const store = await openStore('chain');
  const tar1 = await buildTar([{ name: 'one', content: '1' }]);
  const tar2 = await buildTar([{ name: 'two', content: '2' }]);
  const l1 = await store.register(streamOf(await buildTar([{ name: 'one', content: '1' }], { gzip: true })), null);
  assert.equal(l1.diffId, sha256Digest(tar1));
  assert.equal(l1.chainId, l1.diffId);
  assert.equal(l1.size, tar1.length);
  const l2 = await store.register(streamOf(tar2), l1.chainId);
  assert.equal(l2.chainId, chainId(l1.chainId, sha256Digest(tar2)));
  assert.equal(l2.parent, l1.chainId);
  assert.deepEqual(store.get(l2.chainId), l2);
  assert.equal(store.driverName, 'overlay');
  await assert.rejects(store.register(streamOf(tar2), sha256Digest('missing')), (err) => isKind(err, 'not-found'));
  await assert.rejects(store.register(streamOf(Buffer.alloc(1024, 7)), null), (err) => isKind(err, 'invalid-parameter'));
});

test('dedupes a layer registered twice and keeps it until the last release', async () => {
  const store = await openStore('dedupe');
  const tar = await buildTar([{ name: 'same', content: 'same' }]);
  const [first, second] = await Promise.all([store.register(streamOf(tar), null), store.register(streamOf(tar), null)]);
  assert.deepEqual(second, first);
  assert.equal((await readdir(join(scratch(), 'dedupe', 'overlay'))).filter((name) => name !== 'l').length, 1);
  await store.release(first.chainId);
  assert.deepEqual(store.get(first.chainId), first);
  await store.release(first.chainId);
  assert.throws(() => store.get(first.chainId), (err) => isKind(err, 'not-found'));
});

test('keeps parents under children and containers, then removes the whole chain', async () => {
  const store = await openStore('refs');
  const base = await store.register(streamOf(await buildTar([{ name: 'etc/hostname', content: 'base' }])), null);
  const top = await store.register(streamOf(await buildTar([{ name: 'etc/.wh.hostname' }])), base.chainId);
  await store.release(base.chainId); // the image holds only its top layer
  assert.ok(store.get(base.chainId));

  await store.createContainerLayer('c1', top.chainId);
  const rootfs = await store.mountContainerLayer('c1');
  assert.equal(existsSync(join(rootfs, 'etc/hostname')), false);
  await writeFile(join(rootfs, 'written'), 'by the container');
  assert.ok(Object.keys(await store.containerLayerMetadata('c1')).includes('UpperDir'));
  await store.unmountContainerLayer('c1');

  await store.release(top.chainId); // the container still keeps both layers
  assert.ok(store.get(top.chainId) && store.get(base.chainId));
  await store.removeContainerLayer('c1');
  assert.deepEqual(store.list(), []);
  await assert.rejects(store.mountContainerLayer('c1'), (err) => isKind(err, 'not-found'));
});

test('forgets a registration cut short by a crash and reloads finished layers', async () => {
  const store = await openStore('crash');
  const layer = await store.register(streamOf(await buildTar([{ name: 'kept', content: 'x' }])), null);
  await store.createContainerLayer('c2', layer.chainId);
  // What a crash between driver.create and writing layer.json leaves behind.
  const driverRoot = join(scratch(), 'crash', 'overlay');
  const orphan = 'f'.repeat(32);
  await (await storageDriverFactory('overlay')!(driverRoot)).create(orphan, null);
  await writeFile(join(scratch(), 'crash', 'pending', orphan), '');

  const reopened = await openStore('crash');
  assert.deepEqual(reopened.get(layer.chainId), layer);
  assert.equal(existsSync(join(driverRoot, orphan)), false);
  assert.deepEqual(await readdir(join(scratch(), 'crash', 'pending')), []);
  const rootfs = await reopened.mountContainerLayer('c2');
  assert.equal(await readFile(join(rootfs, 'kept'), 'utf8'), 'x');
  await reopened.unmountContainerLayer('c2');
  await reopened.removeContainerLayer('c2');
});

test('decompresses a layer once: a gzip inside a gzip is not a layer tar', async () => {
  const store = await openStore('once');
  const gzipped = await buildTar([{ name: 'file', content: 'x' }], { gzip: true });
  // Unpacked twice, this would be stored with the inner gzip's digest as its diff ID.
  await assert.rejects(store.register(streamOf(gzipSync(gzipped)), null), (err) => isKind(err, 'invalid-parameter'));
  assert.deepEqual(store.list(), []);
});

test('reports a container layer’s changes, diff and sizes (SizeRw, SizeRootFs)', async () => {
  const store = await openStore('sizes');
  const base = await store.register(streamOf(await buildTar([{ name: 'etc/hostname', content: 'x'.repeat(100) }])), null);
  const top = await store.register(streamOf(await buildTar([{ name: 'etc/motd', content: 'y'.repeat(50) }])), base.chainId);
  await store.createContainerLayer('c3', top.chainId);
  assert.deepEqual(await store.containerLayerSize('c3'), { sizeRw: 0, sizeRootFs: 150 });
  const rootfs = await store.mountContainerLayer('c3');
  await writeFile(join(rootfs, 'written'), Buffer.alloc(1 << 20, 1));
  await store.unmountContainerLayer('c3');
  assert.deepEqual(await store.containerLayerSize('c3'), { sizeRw: 1 << 20, sizeRootFs: (1 << 20) + 150 });
  assert.equal(await store.layerSize(base.chainId), 100);
  assert.deepEqual(await store.containerLayerChanges('c3'), [{ path: '/written', kind: 'A' }]);
  const diff = Buffer.concat(await (await store.containerLayerDiff('c3')).toArray());
  assert.ok(diff.length > 1 << 20);
  assert.equal(diff.subarray(0, 7).toString(), 'written');
  await store.removeContainerLayer('c3');
  await assert.rejects(store.containerLayerSize('c3'), (err) => isKind(err, 'not-found'));
  await store.release(top.chainId);
  await store.release(base.chainId);
});

/** A fresh store on `driver`, in its own folder under the scratch folder. */
async function openStoreOn(driver: 'overlay' | 'vfs', name: string): Promise<LayerStore> {
  return LayerStore.open(join(scratch(), name), await storageDriverFactory(driver)!(join(scratch(), name, driver)));
}

/** The driver layers a store of `name` has on disk (made, being made or being removed). */
async function driverLayers(driver: 'overlay' | 'vfs', name: string): Promise<string[]> {
  const dir = driver === 'overlay' ? join(scratch(), name, 'overlay') : join(scratch(), name, 'vfs', 'dir');
  return (await readdir(dir)).filter((entry) => entry !== 'l');
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** A layer with two files, and a child that deletes one (a whiteout) and adds another. */
async function parentAndChild(): Promise<{ parentTar: Buffer; childTar: Buffer }> {
  return {
    parentTar: await buildTar([{ name: 'etc/hostname', content: 'base' }, { name: 'kept', content: 'k' }]),
    childTar: await buildTar([{ name: 'etc/.wh.hostname' }, { name: 'added', content: 'a' }]),
  };
}

/** The child's files seen from a container on it: the parent's, less the whited-out one, plus its own. */
async function assertChildView(store: LayerStore, top: string, container: string): Promise<void> {
  await store.createContainerLayer(container, top);
  try {
    const rootfs = await store.mountContainerLayer(container);
    try {
      assert.equal(existsSync(join(rootfs, 'etc/hostname')), false);
      assert.equal(await readFile(join(rootfs, 'kept'), 'utf8'), 'k');
      assert.equal(await readFile(join(rootfs, 'added'), 'utf8'), 'a');
    } finally {
      await store.unmountContainerLayer(container);
    }
  } finally {
    await store.removeContainerLayer(container);
  }
}

test('registerBeforeParent on overlay: a child unpacks before its parent, then is chained to it once the parent is registered', async () => {
  const store = await openStoreOn('overlay', 'early');
  const { parentTar, childTar } = await parentAndChild();
  const parentDiff = new PassThrough();
  const parent = store.registerBeforeParent(parentDiff, Promise.resolve(null));
  const child = store.registerBeforeParent(streamOf(childTar), parent.then((layer) => layer.chainId));
  // The child's files are all there while its parent's diff has not even begun.
  await until('the child is unpacked', async () => {
    for (const id of await driverLayers('overlay', 'early')) if (existsSync(join(scratch(), 'early', 'overlay', id, 'diff', 'added'))) return true;
    return false;
  });
  assert.deepEqual(store.list(), []);
  parentDiff.end(parentTar);
  const [p, c] = await Promise.all([parent, child]);
  assert.equal(p.chainId, sha256Digest(parentTar));
  assert.equal(c.chainId, chainId(p.chainId, sha256Digest(childTar)));
  assert.equal(c.parent, p.chainId);
  assert.equal(c.size, childTar.length);
  await assertChildView(store, c.chainId, 'early-c');
  // As registered in order: the same layer, retained once more.
  assert.deepEqual(await store.register(streamOf(childTar), p.chainId), c);
  assert.equal((await driverLayers('overlay', 'early')).length, 2);
  for (const layer of [c, c, p]) await store.release(layer.chainId);
  assert.deepEqual(store.list(), []);
  assert.deepEqual(await driverLayers('overlay', 'early'), []);
});

test('registerBeforeParent on vfs: the child’s diff is read only once its parent is registered', async () => {
  const store = await openStoreOn('vfs', 'early-vfs');
  const { parentTar, childTar } = await parentAndChild();
  const events: string[] = [];
  let sent = false;
  const childDiff = new Readable({
    read() {
      if (sent) return;
      sent = true;
      events.push('child read');
      this.push(childTar);
      this.push(null);
    },
  });
  const parent = store.registerBeforeParent(streamOf(parentTar), Promise.resolve(null)).then((layer) => {
    events.push('parent registered');
    return layer;
  });
  const c = await store.registerBeforeParent(childDiff, parent.then((layer) => layer.chainId));
  const p = await parent;
  assert.deepEqual(events, ['parent registered', 'child read']);
  assert.equal(c.chainId, chainId(p.chainId, sha256Digest(childTar)));
  await assertChildView(store, c.chainId, 'early-vfs-c');
  await store.release(c.chainId);
  await store.release(p.chainId);
  assert.deepEqual(await driverLayers('vfs', 'early-vfs'), []);
});

for (const driver of ['overlay', 'vfs'] as const) {
  test(`registerBeforeParent on ${driver}: a parent that fails fails its child, and leaves nothing`, async () => {
    const name = `failing-${driver}`;
    const store = await openStoreOn(driver, name);
    const { childTar } = await parentAndChild();
    const parent = store.registerBeforeParent(streamOf(Buffer.alloc(4096, 7)), Promise.resolve(null));
    const child = store.registerBeforeParent(streamOf(childTar), parent.then((layer) => layer.chainId));
    await assert.rejects(parent, (err) => isKind(err, 'invalid-parameter'));
    await assert.rejects(child, (err) => isKind(err, 'invalid-parameter'));
    assert.deepEqual(store.list(), []);
    assert.deepEqual(await driverLayers(driver, name), []);
    assert.deepEqual(await readdir(join(scratch(), name, 'pending')), []);
  });
}

test('registerBeforeParent: a parent removed before its child is chained is a conflict', async () => {
  const store = await openStoreOn('overlay', 'gone');
  const { parentTar, childTar } = await parentAndChild();
  const parent = store.register(streamOf(parentTar), null);
  const child = store.registerBeforeParent(
    streamOf(childTar),
    parent.then(async (layer) => {
      await store.release(layer.chainId);
      return layer.chainId;
    }),
  );
  await assert.rejects(child, (err) => isKind(err, 'conflict') && /removed meanwhile/.test((err as Error).message));
  assert.deepEqual(store.list(), []);
  assert.deepEqual(await driverLayers('overlay', 'gone'), []);
});

test('registerBeforeParent: at most MAX_CONCURRENT_UNPACKS unpack at once; one waiting for its parent holds no place', async () => {
  assert.equal(MAX_CONCURRENT_UNPACKS, 4);
  const store = await openStoreOn('overlay', 'bounded');
  const tars = await Promise.all([0, 1, 2, 3, 4].map((i) => buildTar([{ name: `f${i}`, content: `${i}` }])));
  const diffs = tars.map(() => new PassThrough());
  const base = store.registerBeforeParent(diffs[0]!, Promise.resolve(null));
  const parentId = base.then((layer) => layer.chainId);
  const children = diffs.slice(1).map((diff) => store.registerBeforeParent(diff, parentId));
  const pending = () => readdir(join(scratch(), 'bounded', 'pending'));
  await until('four layers unpack', async () => (await pending()).length === 4);
  // The fifth waits for a place: a few turns of the event loop change nothing.
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal((await pending()).length, 4);
  // The first child unpacked waits for its parent without its place: the fifth layer takes it.
  diffs[1]!.end(tars[1]);
  await until('the fifth layer unpacks', async () => (await pending()).length === 5);
  for (let i = 2; i < 5; i++) diffs[i]!.end(tars[i]);
  diffs[0]!.end(tars[0]);
  const layers = [await base, ...(await Promise.all(children))];
  for (const [i, layer] of layers.entries()) assert.equal(layer.parent, i === 0 ? null : layers[0]!.chainId);
  for (const layer of layers.reverse()) await store.release(layer.chainId);
  assert.deepEqual(await driverLayers('overlay', 'bounded'), []);
});

test('registerBeforeParent: a layer unpacked and waiting for its parent when the daemon dies is removed at the next start', async () => {
  const store = await openStoreOn('overlay', 'killed');
  const { childTar } = await parentAndChild();
  let failParent!: (err: Error) => void;
  const child = store.registerBeforeParent(streamOf(childTar), new Promise<string>((_, reject) => (failParent = reject)));
  await until('the child is unpacked', async () => {
    for (const id of await driverLayers('overlay', 'killed')) if (existsSync(join(scratch(), 'killed', 'overlay', id, 'diff', 'added'))) return true;
    return false;
  });
  // What a kill -9 leaves: the store reopened from its files as at the next start.
  const reopened = await openStoreOn('overlay', 'killed');
  assert.deepEqual(reopened.list(), []);
  assert.deepEqual(await driverLayers('overlay', 'killed'), []);
  assert.deepEqual(await readdir(join(scratch(), 'killed', 'pending')), []);
  failParent(new Error('the parent failed'));
  await assert.rejects(child, /the parent failed/);
});

test('a container layer packed into the content store becomes a layer unpacked from its blob; a failed pack leaves no file', async () => {
  const store = await openStore('packed');
  const content = await ContentStore.open(join(scratch(), 'packed', 'content'));
  const ingestDir = join(scratch(), 'packed', 'content', 'ingest');
  const base = await store.register(streamOf(await buildTar([{ name: 'etc/hostname', content: 'base' }])), null);
  await store.createContainerLayer('c4', base.chainId);
  const rootfs = await store.mountContainerLayer('c4');
  await writeFile(join(rootfs, 'etc/hostname'), 'changed');
  await writeFile(join(rootfs, 'new'), Buffer.alloc(3 << 20, 5));
  await store.unmountContainerLayer('c4');

  const lease = content.lease();
  const { layer, blob } = await ingestPackedLayer(content, store, (path) => store.containerLayerDiffToFile('c4', path), base.chainId, lease);
  lease.release();
  const stored = await content.read(blob.digest);
  assert.equal(sha256Digest(stored), blob.digest);
  assert.deepEqual(blob, { digest: blob.digest, size: stored.length, diffId: blob.digest, mediaType: 'application/vnd.oci.image.layer.v1.tar' });
  assert.equal(layer.diffId, blob.digest);
  assert.equal(layer.chainId, chainId(base.chainId, blob.digest));
  assert.deepEqual(await readdir(ingestDir), []);
  await store.createContainerLayer('c5', layer.chainId);
  const unpacked = await store.mountContainerLayer('c5');
  assert.equal(await readFile(join(unpacked, 'etc/hostname'), 'utf8'), 'changed');
  assert.deepEqual(await readFile(join(unpacked, 'new')), Buffer.alloc(3 << 20, 5));
  await store.unmountContainerLayer('c5');
  await store.removeContainerLayer('c5');

  // A packer that fails half way: its file goes, nothing is published or registered.
  const blobsBefore = await content.list();
  const layersBefore = store.list().length;
  const failing = content.lease();
  await assert.rejects(
    ingestPackedLayer(content, store, async (path) => {
      await writeFile(path, 'half a tar');
      throw new Error('the packer failed');
    }, base.chainId, failing),
    /the packer failed/,
  );
  assert.deepEqual(await readdir(ingestDir), []);
  assert.deepEqual(await content.list(), blobsBefore);
  assert.equal(store.list().length, layersBefore);
  // So does one whose container layer is gone (berth-pack is never started).
  await store.removeContainerLayer('c4');
  await assert.rejects(ingestPackedLayer(content, store, (path) => store.containerLayerDiffToFile('c4', path), base.chainId, failing), (err) => isKind(err, 'not-found'));
  failing.release();
  assert.deepEqual(await readdir(ingestDir), []);
  await store.release(layer.chainId);
  await store.release(base.chainId);
});
