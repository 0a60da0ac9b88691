/**
 * The files of an image, for `COPY --from=<stage|image>`: a throwaway writable layer over the
 * image's top layer, mounted while `use` reads from it, then unmounted and removed. Nothing
 * writes to it; the sources are resolved inside it by copy-sources.ts as in a build root. A
 * layer a killed daemon left is swept at start with the other container layers no container owns.
 */
import { newId } from '../../common/ids.js';
import type { LayerStore } from '../../storage/layer-store.js';
import type { Image } from '../images/image-store.js';

export async function withImageRoot<T>(layers: LayerStore, image: Image, use: (root: string) => Promise<T>): Promise<T> {
  const id = newId();
  await layers.createContainerLayer(id, image.chainIds.at(-1) ?? null);
  try {
    const root = await layers.mountContainerLayer(id);
    try {
      return await use(root);
    } finally {
      await layers.unmountContainerLayer(id);
    }
  } finally {
    await layers.removeContainerLayer(id);
  }
}
