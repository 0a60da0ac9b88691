/**
 * A test file's scratch folder for real stores on the overlay driver: made before its tests,
 * every mount under it undone and the folder removed after them, whatever happened.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { ImageStore } from '../../src/engine/images/image-store.js';
import { ContentStore } from '../../src/storage/content-store.js';
import { storageDriverFactory } from '../../src/storage/driver.js';
import '../../src/storage/drivers/overlay/index.js';
import { LayerStore } from '../../src/storage/layer-store.js';
import { unmountAllUnder } from '../../src/storage/mounts.js';

/** The scratch folder's path, valid once the file's tests run. */
export function storageRoot(prefix: string): () => string {
  let root: string | undefined;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    if (!root) return;
    await unmountAllUnder(root);
    await rm(root, { recursive: true, force: true });
  });
  return () => root!;
}

/** The content, layer (overlay) and image stores kept under `root`, opened as berthd opens them. */
export async function openImageStores(root: string): Promise<{ content: ContentStore; layers: LayerStore; images: ImageStore }> {
  const content = await ContentStore.open(join(root, 'content'));
  const layers = await LayerStore.open(join(root, 'layers'), await storageDriverFactory('overlay')!(join(root, 'layers', 'overlay')));
  return { content, layers, images: await ImageStore.open(join(root, 'images'), content, layers) };
}
