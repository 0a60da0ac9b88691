import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { conflict, invalidParameter, notFound } from '../../common/errors.js';
import { readJsonIfExists, removeInterruptedWrites, writeFileAtomic, writeJsonAtomic } from '../../common/atomic-file.js';
import { FULL_ID, shortId } from '../../common/ids.js';
import type { ContentStore } from '../../storage/content-store.js';
import { ingestLayer, ingestPackedLayer, type LayerBlob, type LayerPacker } from '../../storage/layer-ingest.js';
import type { Layer, LayerStore } from '../../storage/layer-store.js';
import { chainId, sha256Digest, type Digest } from '../../storage/digest.js';
import { goArch, type ImageConfig } from './image-config.js';
import { applyConfigChanges } from './config-changes.js';
import {
  canonicalString,
  familiarRepository,
  familiarString,
  parseNormalisedNamed,
  parseReference,
  type Reference,
} from './reference.js';
import { TagStore } from './tag-store.js';
import type { Platform } from './platform.js';

export interface Image {
  /** "sha256:<hex>", the digest of the config blob. */
  id: string;
  config: ImageConfig;
  /** Chain ids of the layers, base first. */
  chainIds: string[];
  size: number;
  lastTagTime?: string;
  /** The layers' blobs as received, base first; empty for an image stored before blobs were kept. */
  layerBlobs: LayerBlob[];
  /** The image a commit started from ("sha256:…"), as moby records it; kept only on this host. */
  parent?: string;
}

interface ImageMetadata {
  /** The tag time of images tagged before it moved to its own file (TAG_TIME). */
  lastTagTime?: string;
  layerBlobs?: LayerBlob[];
  parent?: string;
}

/**
 * LastTagTime lives beside an image's metadata, in `<id>.tagtime`, rewritten on every tag (as
 * Docker's SetLastUpdated) without an fsync: it is the only thing a tag changes, and every build
 * ends with one, so its durable write was the slowest part of a fully cached build. After a
 * crash the file may hold the previous time, or be empty or torn: it is ignored then, and the
 * image shows the time its metadata holds (none for an image tagged only since), as for an image
 * never tagged. The image itself is never at stake, its metadata file being written durably
 * once, when it is stored.
 */
const TAG_TIME = '.tagtime';

/** How an image made by `addLayeredImage` is described, once its new layer's diff ID is known. */
export type LayeredConfig = (layer: { diffId: Digest; empty: boolean }) => ImageConfig;

/** The diff ID of a tar holding nothing (two zero blocks): moby's layer.DigestSHA256EmptyTar. */
export const EMPTY_LAYER_DIFF_ID = sha256Digest(Buffer.alloc(1024));

/** A container that uses an image, as the image store needs to know when deleting it. */
export interface ImageUser {
  containerId: string;
  running: boolean;
}

export interface DeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

export interface ImportOptions {
  /** `repo` as the API gives it; may carry a tag ("busybox:latest"). */
  repo?: string;
  tag?: string;
  changes?: string[];
  message?: string;
  /** Where the tar came from, for the default comment ("Imported from -"). */
  source?: string;
  /** `--platform`: the platform the image says it is for; this machine's by default. */
  platform?: Platform;
}

function chainIdsOf(diffIds: string[]): Digest[] {
  const chain: Digest[] = [];
  for (const diffId of diffIds) chain.push(chainId(chain[chain.length - 1] ?? null, diffId as Digest));
  return chain;
}

/** Images: configs in the content store, metadata and tags beside them, layers in the layer store. */
export class ImageStore {
  private readonly images = new Map<string, Image>();
  /** Images being added, by id: a second add of one config (two pulls of an image ending at once) joins the first. */
  private readonly adding = new Map<string, Promise<Image>>();

  private constructor(
    private readonly metaDir: string,
    private readonly content: ContentStore,
    private readonly layers: LayerStore,
    private readonly tags: TagStore,
  ) {}

  static async open(root: string, content: ContentStore, layers: LayerStore): Promise<ImageStore> {
    const metaDir = join(root, 'images');
    const store = new ImageStore(metaDir, content, layers, await TagStore.open(root));
    await Promise.all([removeInterruptedWrites(root), removeInterruptedWrites(metaDir)]);
    const entries = await readdir(metaDir).catch(() => [] as string[]);
    for (const entry of entries) {
      if (!FULL_ID.test(entry.replace(/\.json$/, ''))) continue;
      await store.load(`sha256:${entry.replace(/\.json$/, '')}`);
    }
    // Tag times of images a crash cut short in their deletion.
    for (const entry of entries) {
      if (entry.endsWith(TAG_TIME) && !store.images.has(`sha256:${entry.slice(0, -TAG_TIME.length)}`)) await rm(join(metaDir, entry), { force: true });
    }
    // Layers and blobs of imports and loads a crash cut short, and of images deleted just before it.
    await layers.removeUnreferenced();
    await store.collectGarbage();
    return store;
  }

  /** Removes the blobs no image refers to (nor an operation in progress holds). */
  async collectGarbage(): Promise<void> {
    await this.content.collectGarbage(() => this.referencedBlobs());
  }

  private referencedBlobs(): Set<string> {
    const digests = new Set<string>();
    for (const image of this.images.values()) {
      digests.add(image.id);
      for (const blob of image.layerBlobs) digests.add(blob.digest);
    }
    return digests;
  }

  /** Loads an image and takes its hold on its layers (the top one keeps those under it). */
  private async load(id: string): Promise<Image> {
    const config = JSON.parse((await this.content.read(id)).toString('utf8')) as ImageConfig;
    const meta = (await readJsonIfExists<ImageMetadata>(this.metaPath(id))) ?? {};
    const lastTagTime = (await this.readTagTime(id)) ?? meta.lastTagTime;
    const chainIds = chainIdsOf(config.rootfs.diff_ids);
    const size = chainIds.reduce((total, layerId) => total + this.layers.get(layerId).size, 0);
    const image: Image = { id, config, chainIds, size, lastTagTime, layerBlobs: meta.layerBlobs ?? [], parent: meta.parent };
    if (chainIds.length > 0) this.layers.retain(chainIds[chainIds.length - 1]);
    this.images.set(id, image);
    return image;
  }

  private metaPath(id: string): string {
    return join(this.metaDir, `${id.replace(/^sha256:/, '')}.json`);
  }

  private tagTimePath(id: string): string {
    return join(this.metaDir, `${id.replace(/^sha256:/, '')}${TAG_TIME}`);
  }

  /** The tag time written last, undefined when there is none or a crash left it torn. */
  private async readTagTime(id: string): Promise<string | undefined> {
    const text = await readFile(this.tagTimePath(id), 'utf8').catch(() => '');
    return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(text) ? text : undefined;
  }

  list(): Image[] {
    return [...this.images.values()].sort((a, b) => (b.config.created ?? '').localeCompare(a.config.created ?? ''));
  }

  get count(): number {
    return this.images.size;
  }

  /** Familiar "repo:tag" strings pointing at the image, e.g. ["busybox:latest"]. */
  repoTags(imageId: string): string[] {
    return this.tags.referencesTo(imageId).map((ref) => parseReference(ref)).filter((ref) => !ref.digest).map(familiarString);
  }

  /** Familiar "repo@digest" strings of the manifests the image was pulled or pushed as. */
  repoDigests(imageId: string): string[] {
    return this.tags.referencesTo(imageId).map((ref) => parseReference(ref)).filter((ref) => ref.digest).map(familiarString);
  }

  /** Records that the image is `repository@digest` in a registry (moby keeps these in its reference store). */
  async addRepoDigest(imageId: string, repository: Reference, digest: string): Promise<void> {
    this.resolve(imageId);
    await this.tags.set(canonicalString({ domain: repository.domain, path: repository.path, digest }), imageId);
  }

  /** `docker tag` with a parsed reference; no event, no name checks (a pull's own tag). */
  async tagReference(imageId: string, ref: Reference): Promise<void> {
    this.resolve(imageId);
    await this.tagImage(imageId, ref);
  }

  /** Finds an image by full id, reference, or id prefix, the order moby's GetImage uses. */
  resolve(refOrId: string): Image {
    const image = this.lookup(refOrId);
    if (!image) throw notFound(`No such image: ${this.displayName(refOrId)}`);
    return image;
  }

  /** Like resolve, but undefined for an unknown or ambiguous name (for filters). */
  find(refOrId: string): Image | undefined {
    try {
      return this.lookup(refOrId);
    } catch {
      return undefined;
    }
  }

  private displayName(refOrId: string): string {
    try {
      return familiarString(parseNormalisedNamed(refOrId));
    } catch {
      return refOrId;
    }
  }

  private lookup(refOrId: string): Image | undefined {
    const asId = refOrId.startsWith('sha256:') ? refOrId : `sha256:${refOrId}`;
    if (FULL_ID.test(asId.slice(7)) && this.images.has(asId)) return this.images.get(asId);
    let ref: Reference | undefined;
    try {
      ref = parseNormalisedNamed(refOrId);
    } catch {
      ref = undefined;
    }
    if (ref) {
      const id = this.tags.get(canonicalString(ref));
      if (id) return this.images.get(id);
    }
    const prefix = asId.slice(7);
    if (/^[0-9a-f]{1,64}$/.test(prefix) && (refOrId.startsWith('sha256:') || prefix.length >= 1)) {
      const matches = [...this.images.keys()].filter((id) => id.startsWith(`sha256:${prefix}`));
      if (matches.length > 1) throw invalidParameter(`ambiguous image id prefix: ${refOrId}`);
      if (matches.length === 1) return this.images.get(matches[0]);
    }
    return undefined;
  }

  /** `docker import`: one layer from a tar (plain or gzipped), kept as received; config from `changes`. */
  async importTar(tar: Readable, options: ImportOptions): Promise<Image> {
    const target = options.repo ? this.importTarget(options.repo, options.tag) : undefined;
    const config = applyConfigChanges({}, options.changes ?? []);
    const created = new Date().toISOString();
    const comment = options.message || `Imported from ${options.source ?? '-'}`;
    return this.addImageWithLayer(tar, { uncompressed: false }, undefined, ({ diffId }) => ({
      architecture: goArch(),
      os: 'linux',
      ...options.platform,
      created,
      comment,
      config,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created, comment }],
    }), target);
  }

  /**
   * Stores `diff` (an uncompressed layer tar, as a commit or a build step makes it) as a new layer
   * over `parent`'s and records the image `configFor` describes, tagged `target`. `diff` is the tar
   * as a stream, or a packer that writes it into the content store (a container's layer: see
   * ingestPackedLayer). A config whose rootfs leaves the layer out (an empty commit) drops it.
   * Nothing stays behind when any step fails.
   */
  async addLayeredImage(diff: Readable | LayerPacker, parent: Image | undefined, configFor: LayeredConfig, target?: Reference): Promise<Image> {
    return this.addImageWithLayer(diff, { uncompressed: true }, parent, configFor, target);
  }

  /** addLayeredImage for a layer tar that may also come gzip- or zstd-compressed (`uncompressed: false`). */
  private async addImageWithLayer(
    diff: Readable | LayerPacker,
    options: { uncompressed: boolean },
    parent: Image | undefined,
    configFor: LayeredConfig,
    target?: Reference,
  ): Promise<Image> {
    const lease = this.content.lease();
    const parentTop = parent?.chainIds[parent.chainIds.length - 1] ?? null;
    const ingest = () =>
      typeof diff === 'function'
        ? ingestPackedLayer(this.content, this.layers, diff, parentTop, lease)
        : ingestLayer(this.content, this.layers, diff, parentTop, lease, options);
    let image: Image;
    try {
      image = await this.registerLayeredImage(ingest, parent, configFor, target);
    } catch (err) {
      lease.release();
      // The blob may be stored whole although unpacking it failed: it is garbage now. Should the
      // collection fail too, the next one takes it; the operation's own failure is what to report.
      await this.collectGarbage().catch(() => undefined);
      throw err;
    } finally {
      lease.release();
    }
    // An empty commit's blob (the tar of nothing) is referenced by no image.
    if (image.config.rootfs.diff_ids.length === (parent?.config.rootfs.diff_ids.length ?? 0)) await this.collectGarbage().catch(() => undefined);
    return image;
  }

  private async registerLayeredImage(
    ingest: () => Promise<{ layer: Layer; blob: LayerBlob }>,
    parent: Image | undefined,
    configFor: LayeredConfig,
    target: Reference | undefined,
  ): Promise<Image> {
    const { layer, blob } = await ingest();
    try {
      const config = configFor({ diffId: layer.diffId, empty: layer.diffId === EMPTY_LAYER_DIFF_ID });
      const parentLayers = parent?.config.rootfs.diff_ids.length ?? 0;
      const withLayer = config.rootfs.diff_ids.length > parentLayers;
      // Blobs name every layer or none (an image stored before blobs were kept has none).
      const parentBlobs = parent === undefined || parent.layerBlobs.length === parentLayers ? (parent?.layerBlobs ?? []) : undefined;
      const blobs = parentBlobs === undefined ? [] : withLayer ? [...parentBlobs, blob] : parentBlobs;
      const image = await this.addImage(config, blobs, parent?.id);
      if (target) await this.tagImage(image.id, target);
      return image;
    } finally {
      // The image now holds its own reference to the layer (or registering it failed).
      await this.layers.release(layer.chainId);
    }
  }

  private importTarget(repo: string, tag?: string): Reference {
    const ref = parseNormalisedNamed(repo);
    if (tag) {
      if (ref.digest) throw invalidParameter('cannot import digest reference');
      return parseNormalisedNamed(`${familiarRepository(ref)}:${tag}`);
    }
    return ref;
  }

  /**
   * Stores a config whose layers are already registered and returns the image. `layerBlobs`
   * (base first) are the layers' blobs in the content store, which the caller holds by a lease
   * until this returns; from then on the image refers to them.
   */
  async addImage(config: ImageConfig, layerBlobs: LayerBlob[] = [], parent?: string): Promise<Image> {
    return this.addImageConfig(Buffer.from(JSON.stringify(config)), layerBlobs, parent);
  }

  /**
   * `addImage` for a config as bytes, kept as they are so that the image keeps its id (the digest
   * of those bytes): what `docker load` needs for the images of an archive.
   */
  async addImageConfig(rawConfig: Buffer, layerBlobs: LayerBlob[] = [], parent?: string): Promise<Image> {
    // Two adds interleaved would each load the image, retaining its layers twice: a removal then
    // released them once, and the layers stayed for good.
    const id = sha256Digest(rawConfig);
    const pending = this.adding.get(id);
    if (pending) return pending;
    const adding = this.addNewImageConfig(rawConfig, layerBlobs, parent).finally(() => this.adding.delete(id));
    this.adding.set(id, adding);
    return adding;
  }

  private async addNewImageConfig(rawConfig: Buffer, layerBlobs: LayerBlob[], parent: string | undefined): Promise<Image> {
    const lease = this.content.lease();
    try {
      const { digest } = await this.content.put(rawConfig, undefined, lease);
      const existing = this.images.get(digest);
      if (existing) return existing;
      await writeJsonAtomic(this.metaPath(digest), { layerBlobs, parent } satisfies ImageMetadata);
      return await this.load(digest);
    } finally {
      lease.release();
    }
  }

  /** `docker tag SOURCE REPO[:TAG]` */
  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const image = this.resolve(source);
    await this.tagImage(image.id, this.importTarget(repo, tag));
  }

  /**
   * Points `name` (a reference with a tag, or a name that gets "latest") at the image, as a load
   * does for the tags of an archive. Resolves with the id it pointed at before, if another image.
   */
  async setTag(imageId: string, name: string): Promise<string | undefined> {
    const ref = this.importTarget(name);
    const previous = this.tags.get(canonicalString(ref));
    await this.tagImage(imageId, ref);
    return previous === imageId ? undefined : previous;
  }

  private async tagImage(imageId: string, ref: Reference): Promise<void> {
    if (ref.digest) throw invalidParameter('refusing to create a tag with a digest reference');
    await this.tags.set(canonicalString(ref), imageId);
    const image = this.images.get(imageId)!;
    image.lastTagTime = new Date().toISOString();
    await writeFileAtomic(this.tagTimePath(imageId), image.lastTagTime, { durable: false });
  }

  /** Bytes of an image layer (its uncompressed tar), for history. */
  layerSize(chainId: string): number {
    return this.layers.get(chainId).size;
  }

  /** The storage driver's paths of the image's top layer, for inspect's GraphDriver.Data. */
  async graphDriverData(image: Image): Promise<Record<string, string>> {
    const top = image.chainIds[image.chainIds.length - 1];
    return top === undefined ? {} : this.layers.layerMetadata(top);
  }

  /** The images made from this one by commit (moby's imageStore.Children). */
  children(imageId: string): Image[] {
    return [...this.images.values()].filter((image) => image.parent === imageId);
  }

  /** The image whose id this is, undefined when it is gone (a parent deleted or never here). */
  byId(imageId: string): Image | undefined {
    return this.images.get(imageId);
  }

  /**
   * `docker rmi`, with moby's rules (daemon/images/image_delete.go). A name untags it; the image
   * goes when its last name does, unless a container still uses it (a running one always keeps
   * it, quietly; a stopped one needs `force`) or a committed image was made from it (it stays as
   * an intermediate image). An id deletes the image with all its names, and then any container
   * using it is a conflict: a running one always, a stopped one without force; so is a child
   * image, even with force. Unless `noPrune`, the parents the deleted image leaves untagged,
   * unused and childless go too.
   */
  async remove(
    refOrId: string,
    options: { force: boolean; noPrune?: boolean },
    users: (imageId: string) => ImageUser[],
  ): Promise<DeleteResponseItem[]> {
    const image = this.resolve(refOrId);
    const using = users(image.id);
    const running = using.find((u) => u.running);
    const stopped = using.find((u) => !u.running);
    const refs = this.tags.referencesTo(image.id);
    const named = this.namedReference(refOrId, image.id);
    const records: DeleteResponseItem[] = [];
    const short = shortId(image.id);
    const hasChildren = this.children(image.id).length > 0;

    if (named) {
      if (using.length > 0 && refs.length === 1 && !options.force) {
        throw conflict(
          `conflict: unable to remove repository reference "${refOrId}" (must force) - container ${shortId(using[0].containerId)} is using its referenced image ${short}`,
        );
      }
      await this.tags.delete(canonicalString(named));
      records.push({ Untagged: familiarString(named) });
      records.push(...(await this.untagOrphanDigests(image.id, named)));
      if (this.tags.referencesTo(image.id).length > 0 || running || hasChildren) return records;
    } else {
      if (hasChildren) throw conflict(`conflict: unable to delete ${short} (cannot be forced) - image has dependent child images`);
      // A running user first: telling the user to force what force cannot do would mislead.
      if (running) {
        throw conflict(`conflict: unable to delete ${short} (cannot be forced) - image is being used by running container ${shortId(running.containerId)}`);
      }
      if (refs.length > 1 && !options.force) {
        throw conflict(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
      }
      if (stopped && !options.force) {
        throw conflict(`conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${shortId(stopped.containerId)}`);
      }
      for (const ref of refs) {
        await this.tags.delete(ref);
        records.push({ Untagged: familiarString(parseReference(ref)) });
      }
    }
    // A stopped container keeps its layers (the layer store holds them under its own layer).
    await this.deleteImage(image);
    records.push({ Deleted: image.id });
    if (!options.noPrune) records.push(...(await this.deleteUnusedParents(image, users)));
    return records;
  }

  /** moby's quiet parent deletion: up the chain while a parent is untagged, unused and childless. */
  private async deleteUnusedParents(image: Image, users: (imageId: string) => ImageUser[]): Promise<DeleteResponseItem[]> {
    const records: DeleteResponseItem[] = [];
    for (let parent = image.parent ? this.images.get(image.parent) : undefined; parent; ) {
      if (this.tags.referencesTo(parent.id).length > 0 || users(parent.id).length > 0 || this.children(parent.id).length > 0) break;
      await this.deleteImage(parent);
      records.push({ Deleted: parent.id });
      parent = parent.parent ? this.images.get(parent.parent) : undefined;
    }
    return records;
  }

  /**
   * `docker image prune`: deletes images no container uses, either only the untagged ones
   * (`dangling`: those no other image was committed from) or all of them (`-a`), with their
   * names, children before their parents.
   */
  async prune(
    options: { danglingOnly: boolean; matches?: (image: Image) => boolean },
    users: (imageId: string) => ImageUser[],
  ): Promise<{ deleted: DeleteResponseItem[]; spaceReclaimed: number }> {
    const deleted: DeleteResponseItem[] = [];
    let spaceReclaimed = 0;
    const before = this.layerSizes();
    for (const image of this.list()) {
      if (!this.images.has(image.id) || this.children(image.id).length > 0) continue;
      const refs = this.tags.referencesTo(image.id);
      if ((options.danglingOnly && refs.length > 0) || users(image.id).length > 0) continue;
      if (options.matches && !options.matches(image)) continue;
      for (const ref of refs) {
        await this.tags.delete(ref);
        deleted.push({ Untagged: familiarString(parseReference(ref)) });
      }
      await this.deleteImage(image);
      deleted.push({ Deleted: image.id });
      deleted.push(...(await this.deleteUnusedParents(image, users)));
    }
    // What the deleted images' layers took, counted once however many of them shared a layer.
    for (const [chainId, size] of before) if (!this.layers.has(chainId)) spaceReclaimed += size;
    return { deleted, spaceReclaimed };
  }

  private layerSizes(): Map<string, number> {
    return new Map(this.layers.list().map((layer) => [layer.chainId, layer.size]));
  }

  /**
   * As moby's ImageDelete: once a repository's last tag on the image goes, so do its digest
   * references (they name the same pull).
   */
  private async untagOrphanDigests(imageId: string, removed: Reference): Promise<DeleteResponseItem[]> {
    if (removed.digest) return [];
    const sameRepo = this.tags
      .referencesTo(imageId)
      .map((ref) => parseReference(ref))
      .filter((ref) => ref.domain === removed.domain && ref.path === removed.path);
    if (sameRepo.some((ref) => !ref.digest)) return [];
    const records: DeleteResponseItem[] = [];
    for (const ref of sameRepo) {
      await this.tags.delete(canonicalString(ref));
      records.push({ Untagged: familiarString(ref) });
    }
    return records;
  }

  private namedReference(refOrId: string, imageId: string): Reference | undefined {
    try {
      const ref = parseNormalisedNamed(refOrId);
      return this.tags.get(canonicalString(ref)) === imageId ? ref : undefined;
    } catch {
      return undefined;
    }
  }

  private async deleteImage(image: Image): Promise<void> {
    this.images.delete(image.id);
    await rm(this.metaPath(image.id), { force: true });
    await rm(this.tagTimePath(image.id), { force: true });
    if (image.chainIds.length > 0) await this.layers.release(image.chainIds[image.chainIds.length - 1]);
    // Its config and layer blobs, unless another image shares them.
    await this.collectGarbage();
  }
}
