/**
 * `docker load`: the images of an archive into the stores, keeping their ids (the configs are
 * stored byte for byte) and their layers' diff IDs (checked against each config). All layers of
 * all images are registered and checked before any image is made, so a bad archive leaves no
 * image; the layers and blobs it had brought in are released and collected.
 */
import type { Readable } from 'node:stream';
import { compressionOf } from '../../archive/index.js';
import { invalidParameter, wrap } from '../../common/errors.js';
import type { ContentStore } from '../../storage/content-store.js';
import { chainId, isDigest, sha256Digest, type Digest } from '../../storage/digest.js';
import { layerMediaType, type LayerBlob } from '../../storage/layer-ingest.js';
import type { LayerStore } from '../../storage/layer-store.js';
import { parseNormalisedNamed } from './reference.js';
import { archiveImages, type ArchiveImage } from './image-archive-manifest.js';
import { readImageArchive, type ImageArchiveContents } from './image-archive-reader.js';
import { UnpackAhead } from './image-archive-unpack-ahead.js';
import type { ImageConfig } from './image-config.js';
import type { Image, ImageStore } from './image-store.js';

export interface LoadedImage {
  image: Image;
  /** The names the archive gave it, now pointing at it. */
  tags: string[];
  /** Names that pointed at another image before: [name, that image's id]. */
  renamed: Array<[string, string]>;
}

interface PreparedImage {
  rawConfig: Buffer;
  blobs: LayerBlob[];
  repoTags: string[];
}

export interface LoadStores {
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
}

export async function loadImageArchive(input: Readable, stores: LoadStores): Promise<LoadedImage[]> {
  const lease = stores.content.lease();
  // One retain per layer registered or reused here, dropped once the images hold them.
  const held: Digest[] = [];
  const ahead = new UnpackAhead(stores.layers);
  try {
    const contents = await readImageArchive(input, stores.content, lease, ahead);
    const prepared: PreparedImage[] = [];
    for (const image of await archiveImages(contents)) prepared.push(await prepareImage(image, contents, stores, ahead, held));
    const loaded: LoadedImage[] = [];
    for (const { rawConfig, blobs, repoTags } of prepared) {
      const image = await stores.images.addImageConfig(rawConfig, blobs);
      const renamed: Array<[string, string]> = [];
      for (const tag of repoTags) {
        const previous = await stores.images.setTag(image.id, tag);
        if (previous) renamed.push([tag, previous]);
      }
      loaded.push({ image, tags: repoTags, renamed });
    }
    return loaded;
  } finally {
    // First: a layer unpacked ahead and claimed may still be joining `held`.
    await ahead.settle();
    for (const layer of held) await stores.layers.release(layer);
    lease.release();
    // Blobs of a load that failed, and those of the archive no image refers to (manifests).
    await stores.images.collectGarbage();
  }
}

async function prepareImage(
  image: ArchiveImage,
  contents: ImageArchiveContents,
  stores: LoadStores,
  ahead: UnpackAhead,
  held: Digest[],
): Promise<PreparedImage> {
  const { content, layers } = stores;
  const rawConfig = await contents.read(image.configPath, 'image config');
  if (image.configDigest && sha256Digest(rawConfig) !== image.configDigest) {
    throw invalidParameter(`invalid image archive: config ${image.configPath} does not match its digest ${image.configDigest}`);
  }
  const config = parseConfig(rawConfig, image.configPath);
  const diffIds = config.rootfs.diff_ids as Digest[];
  if (diffIds.length !== image.layers.length) {
    throw invalidParameter(`invalid manifest, layers length mismatch: expected ${diffIds.length}, got ${image.layers.length}`);
  }
  for (const tag of image.repoTags) checkTag(tag);
  const blobs: LayerBlob[] = [];
  // The layers unpack at once where the driver allows it (LayerStore.registerBeforeParent), each
  // put on its parent once that is registered.
  const registrations: Array<Promise<Digest>> = [];
  let registeredParent: Promise<Digest | null> = Promise.resolve(null);
  let parent: Digest | null = null;
  try {
    for (const [i, layer] of image.layers.entries()) {
      const blob = await contents.blob(layer.path, `layer ${i}`);
      const chain = chainId(parent, diffIds[i]!);
      // What the bytes are, not what a descriptor says they are, decides how they are read and saved.
      const compression = compressionOf(await head(content, blob.digest));
      blobs.push({ digest: blob.digest, size: blob.size, mediaType: layerMediaType(compression), diffId: diffIds[i]! });
      let registration: Promise<Digest>;
      if (layers.list().some((known) => known.chainId === chain)) {
        layers.retain(chain);
        held.push(chain);
        registration = Promise.resolve(chain);
      } else {
        const parentOfThis = registeredParent;
        const fromStore = () => registerLayer(stores, blob.digest, parentOfThis, i, compression === 'none');
        // Unpacked while the archive came in, unless that failed: then again from the store, which
        // says why if it fails again (a failed parent is reported as such, without a second try).
        const unpacking = ahead.claim(blob.digest, parentOfThis)?.catch(async () => {
          await parentOfThis;
          return fromStore();
        });
        registration = (unpacking ?? fromStore()).then((registered) => {
          held.push(registered.chainId);
          if (registered.diffId !== diffIds[i]) {
            throw invalidParameter(`invalid diffID for layer ${i}: expected ${diffIds[i]}, got ${registered.diffId}`);
          }
          return registered.chainId;
        });
      }
      registrations.push(registration);
      registeredParent = registration;
      parent = chain;
    }
  } catch (err) {
    // A later layer's blob is missing: the earlier layers' registrations (and their retries from
    // the store) settle first, so that what they hold is in `held` when the load releases it.
    await Promise.allSettled(registrations);
    throw err;
  }
  // Every registration settles before a failure is reported: what they hold is released then.
  const failed = (await Promise.allSettled(registrations)).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return { rawConfig, blobs, repoTags: image.repoTags };
}

/**
 * `uncompressed`: the blob is the layer tar itself, so its digest (checked when stored) is the
 * diff ID. `parent`: the parent layer's chain ID once registered.
 */
async function registerLayer({ content, layers }: LoadStores, digest: Digest, parent: Promise<Digest | null>, index: number, uncompressed: boolean) {
  try {
    return await layers.registerBeforeParent(await content.open(digest), parent, uncompressed ? { verifiedDiffId: digest } : {});
  } catch (err) {
    throw wrap(err, `loading layer ${index}`);
  }
}

/** The first bytes of a blob: enough to tell its compression. */
async function head(content: ContentStore, digest: Digest): Promise<Buffer> {
  const stream = await content.open(digest);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) return chunk.subarray(0, 4);
    return Buffer.alloc(0);
  } finally {
    stream.destroy();
  }
}

function parseConfig(raw: Buffer, path: string): ImageConfig {
  let config: ImageConfig;
  try {
    config = JSON.parse(raw.toString('utf8')) as ImageConfig;
  } catch (err) {
    throw invalidParameter(`invalid image archive: config ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every((d) => typeof d === 'string' && isDigest(d))) {
    throw invalidParameter(`invalid image archive: config ${path} has no valid rootfs.diff_ids`);
  }
  return config;
}

function checkTag(tag: string): void {
  try {
    if (parseNormalisedNamed(tag).digest) throw invalidParameter('it is a digest reference');
  } catch (err) {
    throw wrap(err, `invalid image archive: cannot tag ${JSON.stringify(tag)}`);
  }
}
