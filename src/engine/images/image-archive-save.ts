/**
 * `docker save`: images as the archive Docker 25+ writes, an OCI image layout (oci-layout,
 * index.json, blobs/sha256/) that also carries manifest.json and repositories for older readers.
 * Layers go out uncompressed, named by their diff IDs; configs byte for byte, so a load gives
 * back the same image ids. The tar streams as it is written, blob after blob, never buffered.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack, type Pack } from 'tar-stream';
import { decompress } from '../../archive/index.js';
import { notImplemented } from '../../common/errors.js';
import type { ContentStore } from '../../storage/content-store.js';
import { digestHex, sha256Digest, type Digest } from '../../storage/digest.js';
import { LAYER_MEDIA_TYPE, type LayerBlob } from '../../storage/layer-ingest.js';
import type { LayerStore } from '../../storage/layer-store.js';
import {
  blobPath,
  IMAGE_NAME_ANNOTATION,
  OCI_CONFIG_MEDIA_TYPE,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  REF_NAME_ANNOTATION,
  type Descriptor,
  type ManifestItem,
} from './image-archive-manifest.js';
import type { Image } from './image-store.js';
import { canonicalString, familiarRepository, familiarString, type Reference } from './reference.js';

/** An image to save with the tagged names it goes out under (none when saved by id). */
export interface SavedImage {
  image: Image;
  refs: Reference[];
}

interface LayerOut {
  diffId: Digest;
  size: number;
  blob: LayerBlob;
}

interface BlobOut {
  digest: Digest;
  size: number;
  mtime: Date;
  open: () => Promise<Readable>;
}

const EPOCH = new Date(0);

/**
 * Writes the archive of `images` to a stream. Everything that can fail before the first byte
 * (a layer without its blob) fails here, so the caller can still answer with an error.
 */
export async function saveImageArchive(images: SavedImage[], content: ContentStore, layers: LayerStore): Promise<Readable> {
  // The blobs stay while they stream out, should an image be removed meanwhile.
  const lease = content.lease();
  for (const { image } of images) {
    lease.hold(image.id as Digest);
    for (const blob of image.layerBlobs) lease.hold(blob.digest);
  }
  try {
    const archive = await archiveOf(images, content, layers);
    archive.once('close', () => lease.release());
    return archive;
  } catch (err) {
    lease.release();
    throw err;
  }
}

async function archiveOf(images: SavedImage[], content: ContentStore, layers: LayerStore): Promise<Pack> {
  const blobs = new Map<Digest, BlobOut>();
  const manifest: ManifestItem[] = [];
  const index: Descriptor[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, refs } of images) {
    const created = image.config.created ? new Date(image.config.created) : EPOCH;
    const layersOut = layersOf(image, layers);
    for (const layer of layersOut) {
      blobs.set(layer.diffId, { digest: layer.diffId, size: layer.size, mtime: created, open: () => uncompressed(content, layer.blob) });
    }
    const rawConfig = await content.read(image.id);
    blobs.set(image.id as Digest, { digest: image.id as Digest, size: rawConfig.length, mtime: created, open: async () => Readable.from([rawConfig]) });
    const layerDescriptors = layersOut.map(({ diffId, size }) => ({ mediaType: LAYER_MEDIA_TYPE.tar, digest: diffId, size }));
    const ociManifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST_MEDIA_TYPE,
        config: { mediaType: OCI_CONFIG_MEDIA_TYPE, digest: image.id, size: rawConfig.length },
        layers: layerDescriptors,
      }),
    );
    const manifestDigest = sha256Digest(ociManifest);
    blobs.set(manifestDigest, { digest: manifestDigest, size: ociManifest.length, mtime: EPOCH, open: async () => Readable.from([ociManifest]) });
    const descriptor: Descriptor = { mediaType: OCI_MANIFEST_MEDIA_TYPE, digest: manifestDigest, size: ociManifest.length };
    if (refs.length === 0) index.push(descriptor);
    for (const ref of refs) {
      index.push({ ...descriptor, annotations: { [IMAGE_NAME_ANNOTATION]: canonicalString(ref), [REF_NAME_ANNOTATION]: ref.tag! } });
      (repositories[familiarRepository(ref)] ??= {})[ref.tag!] = digestHex(layersOut[layersOut.length - 1]!.diffId);
    }
    manifest.push({
      Config: blobPath(image.id),
      // Go marshals an empty list it never filled as null, and so does Docker's save.
      RepoTags: refs.length > 0 ? refs.map(familiarString) : null,
      Layers: layersOut.map(({ diffId }) => blobPath(diffId)),
      LayerSources: Object.fromEntries(layerDescriptors.map((d) => [d.digest, d])),
    });
  }
  const files: Array<[string, Buffer]> = [
    ['index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests: index }))],
    // Go's json.Encoder ends its output with a newline.
    ['manifest.json', Buffer.from(`${JSON.stringify(manifest)}\n`)],
    ['oci-layout', Buffer.from('{"imageLayoutVersion": "1.0.0"}')],
  ];
  if (Object.keys(repositories).length > 0) files.push(['repositories', Buffer.from(`${JSON.stringify(repositories)}\n`)]);
  const archive = pack();
  void writeArchive(archive, [...blobs.values()].sort((a, b) => a.digest.localeCompare(b.digest)), files).catch((err: unknown) => archive.destroy(err as Error));
  return archive;
}

/** Entries in the order Docker's tar of its export folder has them: by name. */
async function writeArchive(archive: Pack, blobs: BlobOut[], files: Array<[string, Buffer]>): Promise<void> {
  for (const name of ['blobs/', 'blobs/sha256/']) await entry(archive, { name, type: 'directory', mode: 0o755, mtime: EPOCH });
  for (const blob of blobs) {
    const sink = archive.entry({ name: blobPath(blob.digest), size: blob.size, mode: 0o644, mtime: blob.mtime, uid: 0, gid: 0 });
    await pipeline(await blob.open(), sink);
  }
  for (const [name, data] of files) await entry(archive, { name, mode: 0o644, mtime: EPOCH }, data);
  archive.finalize();
}

function entry(archive: Pack, header: Parameters<Pack['entry']>[0], data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    archive.entry({ uid: 0, gid: 0, ...header }, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
  });
}

function layersOf(image: Image, layers: LayerStore): LayerOut[] {
  const diffIds = image.config.rootfs.diff_ids as Digest[];
  if (diffIds.length === 0) throw notImplemented(`empty export - not implemented (image ${image.id} has no layers)`);
  if (image.layerBlobs.length !== diffIds.length) {
    throw notImplemented(`image ${image.id} was stored before berthd kept layer blobs; it cannot be saved`);
  }
  return diffIds.map((diffId, i) => ({ diffId, size: layers.get(image.chainIds[i]!).size, blob: image.layerBlobs[i]! }));
}

/** A layer's tar as saved: its blob, decompressed when it was received compressed. */
async function uncompressed(content: ContentStore, blob: LayerBlob): Promise<Readable> {
  const stream = await content.open(blob.digest);
  return blob.mediaType === LAYER_MEDIA_TYPE.tar ? stream : decompress(stream);
}
