/**
 * Two adds of one image config at once (two pulls of an image sharing one download end together):
 * one image, holding its layers once, so that removing it releases them. Interleaved adds used to
 * retain the layers twice; a removal then left them behind for good, and the next pull of the
 * image took them for present and downloaded nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKind } from '../../src/common/errors.js';
import { sha256Digest } from '../../src/storage/digest.js';
import { openImageStores, storageRoot } from '../helpers/storage-root.js';
import { buildTar, streamOf } from '../unit/archive-fixtures.js';

const scratch = storageRoot('berth-image-store-');

test('an image config added twice at once is one image; removing it releases its layer', async () => {
  const { layers, images } = await openImageStores(scratch());
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
