/**
 * Two adds of one image config at once (two pulls of an image sharing one download end together):
 * one image, holding its layers once, so that removing it releases them. Interleaved adds used to
 * retain the layers twice; a removal then left them behind for good, and the next pull of the
 * image took them for present and downloaded nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isKind } from '../../src/common/errors.js';
import { ImageStore } from '../../src/engine/images/image-store.js';
import { ContentStore } from '../../src/storage/content-store.js';
import { sha256Digest } from '../../src/storage/digest.js';
import { storageDriverFactory } from '../../src/storage/driver.js';
import '../../src/storage/drivers/overlay/index.js';
import { LayerStore } from '../../src/storage/layer-store.js';
import { unmountAllUnder } from '../../src/storage/mounts.js';
import { buildTar, streamOf } from '../unit/archive-fixtures.js';

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-image-store-'));
});
after(async () => {
  await unmountAllUnder(root);
  await rm(root, { recursive: true, force: true });
});

test('an image config added twice at once is one image; removing it releases its layer', async () => {
  const content = await ContentStore.open(join(root, 'content'));
  const layers = await LayerStore.open(join(root, 'layers'), await storageDriverFactory('overlay')!(join(root, 'layers', 'overlay')));
  const images = await ImageStore.open(join(root, 'images'), content, layers);
  const tar = await buildTar([{ name: 'file', content: 'data' }]);
  const layer = await layers.register(streamOf(tar), null);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.diffId] } }));
  const blobs = [{ digest: sha256Digest(tar), mediaType: 'application/vnd.docker.image.rootfs.diff.tar', size: tar.length, diffId: layer.diffId }];

  const [first, second] = await Promise.all([images.addImageConfig(config, blobs), images.addImageConfig(config, blobs)]);
  assert.equal(second, first);
  await layers.release(layer.chainId);
  assert.deepEqual(layers.get(layer.chainId), layer, 'the image holds its layer');

  await images.remove(first.id, { force: false }, () => []);
  assert.throws(() => layers.get(layer.chainId), (err) => isKind(err, 'not-found'), 'the removed image left its layer behind');
});
