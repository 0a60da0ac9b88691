/**
 * LastTagTime in its own file beside the image's metadata: every tag moves it (as Docker's
 * SetLastUpdated) without rewriting the metadata written when the image was stored, it survives
 * a reopen, a torn one (a crash mid-write, the write being unsynced) is ignored, and it goes with
 * the image, also when a crash cut the image's deletion short.
 */
import assert from 'node:assert/strict';
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ImageStore } from '../../src/engine/images/image-store.js';
import { openImageStores, storageRoot } from '../helpers/storage-root.js';

const scratch = storageRoot('berth-image-tag-time-');

async function openStore(): Promise<ImageStore> {
  return (await openImageStores(scratch())).images;
}

const exists = (path: string) => access(path).then(() => true, () => false);

test('a tag moves LastTagTime without rewriting the metadata; it survives a reopen, a torn one is ignored, it goes with the image', async () => {
  let images = await openStore();
  const image = await images.addImage({ architecture: 'amd64', os: 'linux', created: '2020-01-01T00:00:00Z', config: {}, rootfs: { type: 'layers', diff_ids: [] } });
  const hex = image.id.replace('sha256:', '');
  const meta = join(scratch(), 'images', 'images', `${hex}.json`);
  const tagTime = join(scratch(), 'images', 'images', `${hex}.tagtime`);
  const metaBefore = { text: await readFile(meta, 'utf8'), ino: (await stat(meta)).ino };

  await images.tag(image.id, 'tagged', 'one');
  const first = images.byId(image.id)!.lastTagTime!;
  await new Promise((resolve) => setTimeout(resolve, 5));
  await images.tag(image.id, 'tagged', 'one');
  const second = images.byId(image.id)!.lastTagTime!;
  assert.ok(second > first, `${second} after ${first}`);
  assert.equal(await readFile(tagTime, 'utf8'), second);
  assert.deepEqual({ text: await readFile(meta, 'utf8'), ino: (await stat(meta)).ino }, metaBefore, 'the metadata was rewritten');

  images = await openStore();
  assert.equal(images.byId(image.id)!.lastTagTime, second);

  await writeFile(tagTime, second.slice(0, 7));
  images = await openStore();
  assert.equal(images.byId(image.id)!.lastTagTime, undefined);

  await images.tag(image.id, 'tagged', 'one');
  await images.remove(image.id, { force: true }, () => []);
  assert.equal(await exists(tagTime), false);

  // A deletion cut short after the metadata went: the tag time left behind goes at the next open.
  await writeFile(tagTime, second);
  images = await openStore();
  assert.equal(await exists(tagTime), false);
});
