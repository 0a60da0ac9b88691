import { rm } from 'node:fs/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { compressionOf, type Compression } from '../archive/index.js';
import type { ContentStore, Lease } from './content-store.js';
import type { Digest } from './digest.js';
import type { Layer, LayerStore } from './layer-store.js';

export const LAYER_MEDIA_TYPE = {
  tar: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** The OCI media type of a layer blob compressed as `compression`. */
export function layerMediaType(compression: Compression): string {
  return compression === 'none' ? LAYER_MEDIA_TYPE.tar : LAYER_MEDIA_TYPE[compression];
}

/** A layer blob as an image refers to it: what save and push hand out. */
export interface LayerBlob {
  /** sha256 of the blob as received (compressed or not). */
  digest: Digest;
  mediaType: string;
  /** Bytes of the blob. */
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
}

/**
 * Stores a layer blob as received and unpacks it, in one pass over the input: the bytes are
 * teed into the content store (which computes the blob digest) and into the layer store (which
 * decompresses them once and computes the diff ID, unless the blob is uncompressed: then the
 * blob digest is the diff ID). `lease` holds the blob until the caller has
 * recorded it in an image. The layer comes back retained once for the caller, as from
 * LayerStore.register.
 */
export async function ingestLayer(
  content: ContentStore,
  layers: LayerStore,
  blob: Readable,
  parent: string | null,
  lease: Lease,
  /** `uncompressed`: `blob` is a layer tar as it is (a commit's diff), whatever its first bytes. */
  options: { uncompressed?: boolean } = {},
): Promise<{ layer: Layer; blob: LayerBlob }> {
  let head = Buffer.alloc(0);
  // Also the one destination `blob` pipes to: a streamx stream (tar-stream's pack) pipes to one only.
  const sniff = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (head.length < 4) head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
      callback(null, chunk);
    },
  });
  const toContent = new PassThrough();
  const toLayers = new PassThrough();
  // pipe() waits for both branches to drain: the slower consumer paces the input.
  blob.pipe(sniff);
  sniff.pipe(toContent);
  sniff.pipe(toLayers);
  let failure: { reason: unknown } | undefined;
  const fail = (err: unknown) => {
    failure ??= { reason: err };
    for (const stream of [toContent, toLayers, sniff]) stream.destroy(err as Error);
  };
  blob.on('error', fail);
  // Their errors reach the two promises below; an 'error' event nobody listens to would be thrown.
  for (const stream of [toContent, toLayers, sniff]) stream.on('error', () => {});

  const stored = content.ingest(toContent, {}, lease);
  // A blob known to be the layer tar itself has the diff ID as its digest, which the content
  // store computes: the layer store does not hash the same bytes again.
  const storedDigest = stored.then(({ digest }) => digest);
  storedDigest.catch(() => {}); // awaited only once unpacked; `stored` itself reports the failure
  const registered = layers.register(toLayers, parent, options.uncompressed ? { verifiedDiffId: storedDigest } : {});
  // Either side failing stops the other, which would otherwise wait for bytes for ever; the
  // first failure is the cause, the other side's is its echo.
  stored.catch(fail);
  registered.catch(fail);
  const [storedResult, registeredResult] = await Promise.allSettled([stored, registered]);
  if (failure || storedResult.status === 'rejected' || registeredResult.status === 'rejected') {
    if (registeredResult.status === 'fulfilled') await layers.release(registeredResult.value.chainId);
    throw failure!.reason;
  }
  const layer = registeredResult.value;
  const { digest, size } = storedResult.value;
  return { layer, blob: { digest, size, diffId: layer.diffId, mediaType: layerMediaType(options.uncompressed ? 'none' : compressionOf(head)) } };
}

/**
 * Writes a layer tar into `blobPath`, a new file on the content store's filesystem (see
 * ContentStore.ingestPath), durable when it resolves, with the sha256 and size of what it wrote:
 * how a container's layer is packed straight to disk (LayerStore.containerLayerDiffToFile).
 */
export type LayerPacker = (blobPath: string) => Promise<{ digest: Digest; size: number }>;

/**
 * ingestLayer for a layer tar `pack` writes into the content store itself (a commit's or a build
 * step's diff): the blob is published as written, then unpacked from the stored file, whose
 * descriptor the extract helper reads (see extract.ts): berthd moves none of the bytes. The
 * uncompressed blob's digest is its diff ID. `lease` holds the blob as in ingestLayer; the file
 * is removed when packing fails (and the ingest folder is emptied at start, for a kill -9).
 */
export async function ingestPackedLayer(
  content: ContentStore,
  layers: LayerStore,
  pack: LayerPacker,
  parent: string | null,
  lease: Lease,
): Promise<{ layer: Layer; blob: LayerBlob }> {
  const path = content.ingestPath();
  let blob: { digest: Digest; size: number };
  try {
    blob = await pack(path);
    await content.adopt(path, blob, lease);
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  const layer = await layers.register(await content.open(blob.digest), parent, { verifiedDiffId: blob.digest });
  return { layer, blob: { ...blob, diffId: blob.digest, mediaType: LAYER_MEDIA_TYPE.tar } };
}
