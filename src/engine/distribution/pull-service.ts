/**
 * `docker pull`: resolves a tag or digest to a manifest (an index picks the platform), fetches the
 * config, downloads the missing layers concurrently into the content store, unpacks them as
 * they arrive (each chained to its parent once that is registered), and records the image with
 * its tag and its repository digest — reporting each step in Docker's progress messages. Layers
 * present locally are not downloaded ("Already exists"); a failure leaves no image, and the blobs
 * it stored are garbage once its lease goes.
 */
import { pipeline, Readable, Transform } from 'node:stream';
import { compressionOf } from '../../archive/index.js';
import { BerthError, invalidParameter, notFound, wrap } from '../../common/errors.js';
import type { ContentStore, Lease } from '../../storage/content-store.js';
import { chainId, sha256Digest, type Digest } from '../../storage/digest.js';
import type { Layer, LayerStore } from '../../storage/layer-store.js';
import type { LayerBlob } from '../../storage/layer-ingest.js';
import type { EventBus } from '../events/event-bus.js';
import type { ImageConfig } from '../images/image-config.js';
import type { Image, ImageStore } from '../images/image-store.js';
import { familiarRepository, familiarString, parseNormalisedNamed, type Reference } from '../images/reference.js';
import type { BlobDownloads, BlobWriter, WrittenBlob } from './blob-downloads.js';
import type { BlobSources } from './blob-sources.js';
import { fetchConfig } from './config-blob.js';
import { choosePlatform, parseManifest, parsePlatform, platformString, type Descriptor, type ImageManifest, type Platform } from './manifest.js';
import { progressBar } from './progress-bar.js';
import type { Credentials } from './registry-auth.js';
import type { RegistryClient } from './registry-client.js';
import type { RegistrySessions } from './registry-sessions.js';
import type { DistributionProgress } from '../../wire/distribution.js';

export type ProgressSink = (message: DistributionProgress) => void;

export interface PullRequest {
  /** `fromImage` as the API gives it: "busybox", "localhost:5000/a/b:tag", "x@sha256:…". */
  fromImage: string;
  /** `tag`: a tag or a digest; empty for the reference's own. */
  tag?: string;
  platform?: string;
  allTags?: boolean;
  credentials: Credentials;
}


const shortDigest = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

/** The reference a pull request names, with the `tag` parameter (a tag or a digest) applied. */
export function pullReference(fromImage: string, tag: string | undefined): Reference {
  if (!tag) return parseNormalisedNamed(fromImage);
  const base = parseNormalisedNamed(fromImage);
  const name = familiarRepository(base);
  return parseNormalisedNamed(tag.includes(':') ? `${name}@${tag}` : `${name}:${tag}`);
}

export class PullService {
  constructor(
    private readonly deps: {
      content: ContentStore;
      layers: LayerStore;
      images: ImageStore;
      events: EventBus;
      downloads: BlobDownloads;
      sessions: RegistrySessions;
      sources: BlobSources;
    },
  ) {}

  /** Pulls as the request says, telling `progress`; resolves with the images pulled. */
  async pull(request: PullRequest, progress: ProgressSink, signal: AbortSignal): Promise<Image[]> {
    const platform = parsePlatform(request.platform);
    const ref = pullReference(request.fromImage, request.tag);
    if (!request.allTags) return [await this.pullOne(ref, request.credentials, platform, progress, signal, true)];
    if (ref.digest || (request.tag ?? '') !== '' || /:[^/]+$/.test(request.fromImage)) {
      throw invalidParameter('tag can only be used with --all-tags/-a');
    }
    const client = await this.deps.sessions.client(ref, 'pull', request.credentials, signal);
    const tags = await client.listTags();
    const pulled: Image[] = [];
    for (const tag of tags) pulled.push(await this.pullOne({ ...ref, tag, digest: undefined }, request.credentials, platform, progress, signal, false, client));
    progress({ status: `Status: Downloaded newer image for ${familiarRepository(ref)}` });
    return pulled;
  }

  private async pullOne(
    ref: Reference,
    credentials: Credentials,
    platform: Platform,
    progress: ProgressSink,
    signal: AbortSignal,
    statusLine: boolean,
    existingClient?: RegistryClient,
  ): Promise<Image> {
    const client = existingClient ?? (await this.deps.sessions.client(ref, 'pull', credentials, signal));
    const shown = familiarString(ref);
    const { manifest, manifestDigest } = await this.resolveManifest(client, ref, platform).catch((err: unknown) => {
      throw notFoundWording(err, ref);
    });
    progress({ status: `Pulling from ${client.path}`, id: ref.tag ?? ref.digest });
    const lease = this.deps.content.lease();
    try {
      const configBytes = await fetchConfig(client, manifest.config, this.deps.content, signal);
      const config = parseImageConfig(configBytes, manifest);
      if (config.os !== platform.os || (config.architecture && config.architecture !== platform.architecture)) {
        throw invalidParameter(`image with reference ${shown} was found but does not provide the specified platform (${platformString(platform)})`);
      }
      const imageId = sha256Digest(configBytes);
      const existing = this.deps.images.find(imageId);
      const fresh = !existing || !this.hasAllLayers(config);
      const image = fresh ? await this.fetchImage(client, manifest, config, configBytes, progress, lease, signal) : existing;
      if (ref.tag) await this.deps.images.tagReference(image.id, ref);
      await this.deps.images.addRepoDigest(image.id, ref, manifestDigest);
      await this.deps.sources.add(manifest.layers.map((l) => l.digest), `${ref.domain}/${ref.path}`);
      progress({ status: `Digest: ${manifestDigest}` });
      if (statusLine) progress({ status: fresh ? `Status: Downloaded newer image for ${shown}` : `Status: Image is up to date for ${shown}` });
      this.deps.events.publish('image', 'pull', shown, { ...(config.config?.Labels ?? {}), name: shown });
      return image;
    } finally {
      lease.release();
    }
  }

  private async resolveManifest(client: RegistryClient, ref: Reference, platform: Platform): Promise<{ manifest: ImageManifest; manifestDigest: Digest }> {
    const fetched = await client.getManifest(ref.digest ?? ref.tag ?? 'latest');
    const digest = sha256Digest(fetched.bytes);
    if (ref.digest && digest !== ref.digest) throw invalidParameter(`manifest verification failed for digest ${ref.digest}: got ${digest}`);
    const parsed = parseManifest(fetched.bytes, fetched.mediaType);
    if (parsed.kind === 'manifest') return { manifest: parsed, manifestDigest: digest };
    const entry: Descriptor = choosePlatform(parsed, platform);
    const child = await client.getManifest(entry.digest);
    if (sha256Digest(child.bytes) !== entry.digest) throw invalidParameter(`manifest verification failed for digest ${entry.digest}`);
    const manifest = parseManifest(child.bytes, child.mediaType);
    if (manifest.kind !== 'manifest') throw invalidParameter(`malformed manifest: index ${digest} names another index for ${platformString(platform)}`);
    // The image's repository digest is the index's, as Docker records it.
    return { manifest, manifestDigest: digest };
  }

  private hasAllLayers(config: ImageConfig): boolean {
    return chainIdsOf(config).every((id) => this.layerExists(id));
  }

  private layerExists(id: Digest): boolean {
    try {
      this.deps.layers.get(id);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Downloads every missing layer at once (bounded by the download slots) and unpacks each one
   * as its bytes arrive, all of them at once where the storage driver allows it (see
   * LayerStore.registerBeforeParent); each is registered once its parent is. Resolves with the
   * layers the pull holds (retained for it: those present already too, so that none goes before
   * the image is recorded) and the layers' blobs. On failure, releases what it held once every
   * layer's work has stopped, and throws the first failure.
   */
  private async fetchLayers(
    client: RegistryClient,
    manifest: ImageManifest,
    config: ImageConfig,
    progress: ProgressSink,
    lease: Lease,
    signal: AbortSignal,
  ): Promise<{ held: Layer[]; blobs: LayerBlob[] }> {
    const chainIds = chainIdsOf(config);
    const held: Layer[] = [];
    // Present layers are a prefix of the chain (a layer keeps its parents).
    const present = chainIds.map((id) => {
      if (!this.layerExists(id)) return false;
      this.deps.layers.retain(id);
      held.push(this.deps.layers.get(id));
      return true;
    });
    manifest.layers.forEach((layer, i) => progress({ status: present[i] ? 'Already exists' : 'Pulling fs layer', progressDetail: {}, id: shortDigest(layer.digest) }));
    const cancel = new AbortController();
    const scoped = AbortSignal.any([signal, cancel.signal]);
    let failure: { reason: unknown } | undefined;
    const fail = (err: unknown) => {
      if (failure) return;
      failure = { reason: err };
      cancel.abort(err);
    };
    const work: Array<Promise<unknown>> = [];
    let parent: Promise<Digest | null> = Promise.resolve(null);
    manifest.layers.forEach((layer, i) => {
      if (present[i]) {
        parent = Promise.resolve(chainIds[i]!);
        return;
      }
      const diffId = config.rootfs.diff_ids[i] as Digest;
      const { downloaded, registered } = this.fetchLayer(client, layer, diffId, parent, progress, lease, scoped);
      const checked = registered.then((unpacked) => {
        held.push(unpacked);
        if (unpacked.diffId !== diffId) throw invalidParameter(`layer ${layer.digest} unpacks to ${unpacked.diffId}, not the ${diffId} the image config names`);
        // Its blob is verified (the stream unpacked ends only then); it need not wait for the
        // blob's publishing (an fsync) in the content store.
        progress({ status: 'Pull complete', progressDetail: {}, id: shortDigest(layer.digest) });
        return unpacked.chainId;
      });
      downloaded.catch(fail);
      checked.catch(fail);
      work.push(downloaded, checked);
      parent = checked;
    });
    await Promise.allSettled(work);
    if (failure) {
      for (const layer of held.reverse()) await this.deps.layers.release(layer.chainId).catch(() => undefined);
      throw failure.reason;
    }
    return {
      held,
      blobs: manifest.layers.map((layer, i) => ({ digest: layer.digest, mediaType: layer.mediaType, size: layer.size, diffId: config.rootfs.diff_ids[i] as Digest })),
    };
  }

  /**
   * Downloads a layer and registers it over `parent` (the chain ID of the layer under it, once
   * that is registered), unpacking as the first bytes arrive: where it can start at once, the
   * extractor is the download's writer (it writes and hashes the blob's file as it unpacks the
   * bytes: see unpackDownload); otherwise it follows the download's file. A layer stored
   * (verified) before its unpacking starts is unpacked from the content store's file.
   */
  private fetchLayer(
    client: RegistryClient,
    layer: Descriptor,
    diffId: Digest,
    parent: Promise<Digest | null>,
    progress: ProgressSink,
    lease: Lease,
    signal: AbortSignal,
  ): { downloaded: Promise<void>; registered: Promise<Layer> } {
    let firstBytes!: () => void;
    const started = new Promise<void>((resolve) => (firstBytes = resolve));
    let stored = false;
    let written: Promise<Layer> | undefined;
    const writer: BlobWriter | undefined = isZstd(layer)
      ? undefined
      : (body, file) => (written = this.unpackDownload(layer, body, file, parent, progress));
    const downloaded = this.download(client, layer, progress, lease, signal, () => firstBytes(), writer).then(() => void (stored = true));
    const registered = (async () => {
      await Promise.race([started, downloaded]);
      return await (
        written ??
        (stored && (await this.isPlainTar(layer, diffId))
          ? this.unpackStored(layer, diffId, parent, progress)
          : this.unpack(layer, diffId, this.deps.downloads.follow(layer.digest, layer.size, signal), parent, progress))
      ).catch(
        // A download that failed (a digest mismatch, a stall) cut the unpacking short: its error is the cause.
        async (err: unknown) => {
          throw await downloaded.then(() => err, (failed: unknown) => failed);
        },
      );
    })();
    return { downloaded, registered };
  }

  /** Fetches the layers and records the image, which then holds the layers this pull registered. */
  private async fetchImage(
    client: RegistryClient,
    manifest: ImageManifest,
    config: ImageConfig,
    configBytes: Buffer,
    progress: ProgressSink,
    lease: Lease,
    signal: AbortSignal,
  ): Promise<Image> {
    const { held, blobs } = await this.fetchLayers(client, manifest, config, progress, lease, signal);
    try {
      return await this.deps.images.addImageConfig(configBytes, blobs);
    } finally {
      for (const layer of held) await this.deps.layers.release(layer.chainId);
    }
  }

  private async download(client: RegistryClient, layer: Descriptor, progress: ProgressSink, lease: Lease, signal: AbortSignal, onBytes: () => void, writer: BlobWriter | undefined): Promise<void> {
    const id = shortDigest(layer.digest);
    await this.deps.downloads.fetch(
      layer.digest,
      layer.size,
      async (offset, abort) => {
        const { stream, offset: start, handOff } = await client.getBlob(layer.digest, offset, abort, true);
        return { stream, offset: start, handOff };
      },
      {
        waiting: () => progress({ status: 'Waiting', progressDetail: {}, id }),
        progress: (current, total) => {
          onBytes();
          progress({ status: 'Downloading', progressDetail: { current, total }, progress: progressBar(current, total), id });
        },
      },
      lease,
      signal,
      writer,
    );
    progress({ status: 'Verifying Checksum', progressDetail: {}, id });
    progress({ status: 'Download complete', progressDetail: {}, id });
  }

  /**
   * The download's writer (see BlobWriter): registers the layer from the response's bytes, the
   * extractor writing and hashing the blob's file as it unpacks them, so berthd only moves them
   * from the socket to its pipe; the diff ID comes from the same pass. Declines (undefined) when
   * the unpacking could not start at once (no unpack slot free, or a driver that unpacks a layer
   * only once its parent is registered): the response would wait idle, and the download goes to
   * its file then.
   */
  private unpackDownload(layer: Descriptor, body: Readable, file: Parameters<BlobWriter>[1], parent: Promise<Digest | null>, progress: ProgressSink): Promise<Layer> | undefined {
    if (!this.deps.layers.unpacksAtOnce()) return undefined;
    const { path, check, connection } = file;
    // With the registry's connection, no byte passes here to be counted: "Extracting" is told at
    // the start and once the blob is whole.
    let counted = body;
    if (connection) extracting(layer, progress, 0);
    else pipeline(body, (counted = extractingCounter(layer, file.offset, progress)), () => undefined);
    const blob = {
      path,
      connection,
      check: (written: WrittenBlob) => {
        check(written);
        if (connection) extracting(layer, progress, layer.size);
      },
    };
    return this.deps.layers.registerBeforeParent(counted, parent, { blob }).catch((err: unknown) => {
      counted.destroy();
      throw wrap(err, `failed to register layer ${shortDigest(layer.digest)}`);
    });
  }

  /** Whether a stored blob is the uncompressed tar the config names: diff ID = digest, no compression's magic number. */
  private async isPlainTar(layer: Descriptor, diffId: Digest): Promise<boolean> {
    if (diffId !== layer.digest) return false;
    for await (const chunk of (await this.deps.content.open(layer.digest)) as AsyncIterable<Buffer>) return compressionOf(chunk) === 'none';
    return true;
  }

  /**
   * Unpacks a plain tar blob that is stored (verified) already: the layer store gets the content
   * store's file as it is, which the extract helper can read by itself, with no byte through
   * berthd. "Extracting" is told at the start and the end only.
   */
  private async unpackStored(layer: Descriptor, diffId: Digest, parent: Promise<Digest | null>, progress: ProgressSink): Promise<Layer> {
    const id = shortDigest(layer.digest);
    extracting(layer, progress, 0);
    const blob = await this.deps.content.open(layer.digest);
    try {
      const registered = await this.deps.layers.registerBeforeParent(blob, parent, { verifiedDiffId: diffId });
      extracting(layer, progress, layer.size);
      return registered;
    } catch (err) {
      blob.destroy();
      throw wrap(err, `failed to register layer ${id}`);
    }
  }

  /**
   * Unpacks a blob over its parent as its bytes come, reporting bytes of the blob read
   * ("Extracting"). A blob that is the uncompressed tar the config names (diff ID = digest, no
   * compression's magic number) is not hashed a second time: the stream ends only once the
   * download has checked those same bytes against the digest.
   */
  private async unpack(layer: Descriptor, diffId: Digest, followed: Readable, parent: Promise<Digest | null>, progress: ProgressSink): Promise<Layer> {
    const id = shortDigest(layer.digest);
    const counted = extractingCounter(layer, 0, progress);
    let blob = followed;
    try {
      const read = await readHead(followed, COMPRESSION_MAGIC_BYTES);
      blob = read.whole;
      // Through pipeline, not pipe: an error of the blob (its download failed) reaches `counted`
      // with a listener even before the layer store reads it.
      pipeline(blob, counted, () => undefined);
      const plain = diffId === layer.digest && compressionOf(read.head) === 'none';
      return await this.deps.layers.registerBeforeParent(counted, parent, plain ? { verifiedDiffId: diffId } : {});
    } catch (err) {
      blob.destroy();
      throw wrap(err, `failed to register layer ${id}`);
    }
  }
}

/**
 * A pass-through that tells "Extracting" progress of `layer` (at most every 100 ms, and at its
 * last byte) as the unpacking reads its bytes, from `start` on.
 */
function extractingCounter(layer: Descriptor, start: number, progress: ProgressSink): Transform {
  let current = start;
  let reported = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      current += chunk.length;
      const now = performance.now();
      if (now - reported >= 100 || current === layer.size) {
        reported = now;
        extracting(layer, progress, current);
      }
      callback(null, chunk);
    },
  });
}

/** "Extracting" progress of `layer`: `current` bytes of its blob unpacked. */
function extracting(layer: Descriptor, progress: ProgressSink, current: number): void {
  progress({ status: 'Extracting', progressDetail: { current, total: layer.size }, progress: progressBar(current, layer.size), id: shortDigest(layer.digest) });
}

/** zstd layers are decompressed in berthd (see extractTar), so they cannot be their download's writer. */
function isZstd(layer: Descriptor): boolean {
  return /zstd/.test(layer.mediaType);
}

/** Enough of a blob's first bytes to tell its compression by magic number. */
const COMPRESSION_MAGIC_BYTES = 4;

/**
 * Reads ahead `blob`'s first `count` bytes (fewer if it is shorter); `whole` then gives every
 * byte from the first, and closing it closes `blob`.
 */
async function readHead(blob: Readable, count: number): Promise<{ head: Buffer; whole: Readable }> {
  const iterator = blob[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const taken: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < count && !done) {
    const next = await iterator.next();
    if (next.done) done = true;
    else {
      taken.push(next.value);
      length += next.value.length;
    }
  }
  async function* replay(): AsyncGenerator<Buffer> {
    yield* taken;
    if (done) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  const whole = Readable.from(replay(), { objectMode: false });
  whole.once('close', () => blob.destroy());
  return { head: Buffer.concat(taken).subarray(0, count), whole };
}

function chainIdsOf(config: ImageConfig): Digest[] {
  const ids: Digest[] = [];
  for (const diffId of config.rootfs.diff_ids) ids.push(chainId(ids[ids.length - 1] ?? null, diffId as Digest));
  return ids;
}

function parseImageConfig(bytes: Buffer, manifest: ImageManifest): ImageConfig {
  let config: ImageConfig;
  try {
    config = JSON.parse(bytes.toString('utf8')) as ImageConfig;
  } catch (err) {
    throw invalidParameter(`malformed image config ${manifest.config.digest}: ${(err as Error).message}`);
  }
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.some((d) => typeof d !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(d))) {
    throw invalidParameter(`malformed image config ${manifest.config.digest}: no valid rootfs.diff_ids`);
  }
  if (diffIds.length !== manifest.layers.length) {
    throw invalidParameter(`malformed manifest: ${manifest.layers.length} layers but the image config names ${diffIds.length}`);
  }
  return config;
}

/** Docker's wording for a missing tag or repository: "manifest for x:y not found: manifest unknown: …". */
export function notFoundWording(err: unknown, ref: Reference): unknown {
  if (!(err instanceof BerthError) || err.kind !== 'not-found') return err;
  const detail = err.message.replace(/^\w+ "[^"]*": /, '');
  return notFound(`manifest for ${familiarString(ref)} not found: ${detail}`, err);
}
