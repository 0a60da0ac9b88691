import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobFile, Extracted, GrowingFile } from '../archive/extract.js';
import type { Compression } from '../archive/index.js';
import { readJsonIfExists, removeInterruptedWrites, writeJsonAtomic } from '../common/atomic-file.js';
import { alreadyExists, conflict, notFound, wrap } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { chainId as chainIdOf, digestHex, type Digest } from './digest.js';
import type { Change, StorageDriver } from './driver.js';
import { checkLayerId } from './layer-id.js';
import { RefCounts } from './ref-counts.js';
import { Semaphore } from './semaphore.js';

/** Layers unpacked at once per store (per daemon); more imports wait their turn. */
export const MAX_CONCURRENT_UNPACKS = 4;
/**
 * Guessed layers unpacked at once (registerAhead), apart from the slots above: a guess is fed at
 * the pace of the client uploading the archive, and slow clients must not hold up pulls and
 * imports.
 */
export const MAX_CONCURRENT_GUESSES = 2;

export interface Layer {
  /** Names the layer with everything under it (see chainId in digest.ts). */
  chainId: Digest;
  /** sha256 of the layer's uncompressed tar. */
  diffId: Digest;
  parent: Digest | null;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** The driver's id for the layer. */
  cacheId: string;
}

/** A layer being registered by LayerStore.registerAhead. */
export interface AheadRegistration {
  /**
   * Once unpacked (before the parent is known): the diff ID and size of the uncompressed tar, and
   * how the diff was compressed; for 'none' they are the sha256 and size of the bytes as given.
   */
  unpacked: Promise<{ diffId: Digest; size: number; compression: Compression }>;
  /** The layer, once on its parent; retained once for the caller, as register's result. */
  layer: Promise<Layer>;
}

export interface RegisterOptions {
  /** See registerUnpacking. */
  verifiedDiffId?: Digest | Promise<Digest>;
  /**
   * The layer's bytes are a blob being downloaded, whose file the extractor writes and hashes as
   * it unpacks them (see ExtractOptions.blob); the diff ID is computed in the same pass.
   */
  blob?: BlobFile;
}

/** A driver layer filled but not yet recorded: still marked pending. */
interface Unpacked {
  cacheId: string;
  diffId: Digest;
  size: number;
  /** How the diff was compressed, where the extractor told it (the diff ID was not given). */
  compression?: Compression;
  /** The driver layer it was created over (null: none, e.g. filled before its parent was known). */
  parentCacheId: string | null;
}

interface ContainerLayer {
  containerId: string;
  parent: Digest | null;
}

/**
 * Image layers by chain ID, and containers' writable layers, over one StorageDriver.
 *
 * On disk (ROOT):
 *   layers/<chainId hex>/layer.json   a Layer; a layer exists once this file does
 *   containers/<containerId>.json     a ContainerLayer (the driver id is the container id)
 *   pending/<cacheId>                 a driver layer being made or removed; one found on open was
 *                                     cut short by a crash, and its driver layer is removed
 *
 * References: a layer is kept while it is retained, is the parent of another layer, or is under a
 * container layer. Retains are counted in memory, one per holder: `register` returns the layer
 * retained once for its caller, `retain` adds one, `release` drops one and, when nothing keeps the
 * layer any more, removes it and then any parent nothing keeps. Holders (the image store, one
 * retain per image on its top layer) therefore retain their layers again when the daemon starts,
 * before they release any or remove container layers.
 */
export class LayerStore {
  private readonly retains = new RefCounts();
  private readonly layerSizes = new Map<Digest, number>();
  private readonly unpacks = new Semaphore(MAX_CONCURRENT_UNPACKS);
  private readonly guesses = new Semaphore(MAX_CONCURRENT_GUESSES);
  // One metadata change at a time; the slow parts (unpacking) run outside it.
  private serial: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly root: string,
    private readonly driver: StorageDriver,
    private readonly layers: Map<Digest, Layer>,
    private readonly containers: Map<string, ContainerLayer>,
    private readonly logger?: Pick<Logger, 'warn'>,
  ) {}

  /** `logger` hears of the half-made layers recovery could not remove (they are tried again next time). */
  static async open(root: string, driver: StorageDriver, logger?: Pick<Logger, 'warn'>): Promise<LayerStore> {
    for (const dir of ['layers', 'containers', 'pending']) await mkdir(join(root, dir), { recursive: true });
    for (const cacheId of await readdir(join(root, 'pending'))) {
      // One layer that cannot be removed now (a full disk, a stray name) must not stop the daemon.
      try {
        await driver.remove(cacheId);
        await rm(join(root, 'pending', cacheId), { force: true });
      } catch (err) {
        logger?.warn('could not remove a layer left half-made; trying again at the next start', { cacheId, err });
      }
    }
    const layers = new Map<Digest, Layer>();
    for (const hex of await readdir(join(root, 'layers'))) {
      const layer = await readJsonIfExists<Layer>(join(root, 'layers', hex, 'layer.json'));
      if (layer) layers.set(layer.chainId, layer);
      // A folder without layer.json holds only the temp file of an interrupted write.
      else await rm(join(root, 'layers', hex), { recursive: true, force: true });
    }
    await removeInterruptedWrites(join(root, 'containers'));
    const containers = new Map<string, ContainerLayer>();
    for (const name of await readdir(join(root, 'containers'))) {
      if (!name.endsWith('.json')) continue;
      const layer = await readJsonIfExists<ContainerLayer>(join(root, 'containers', name));
      if (layer) containers.set(layer.containerId, layer);
    }
    return new LayerStore(root, driver, layers, containers, logger);
  }

  get driverName(): string {
    return this.driver.name;
  }

  /**
   * Unpacks a layer tar (plain or gzipped) over `parent` and records it, computing its diff ID
   * in the same pass. When a layer with the resulting chain ID exists already, the new copy is
   * dropped and the existing one returned. Either way the result is retained once for the caller.
   */
  async register(diff: Readable, parent: string | null, options: RegisterOptions = {}): Promise<Layer> {
    const parentLayer = parent === null ? null : this.get(parent);
    const unpacked = await this.unpackInSlot(diff, parentLayer, options);
    return this.record(unpacked, parentLayer);
  }

  /**
   * register() for a layer whose parent is still being registered: the layers of a pull, which
   * unpack as they download. `parent` resolves with the parent's chain ID once that layer is
   * registered (null for a base layer), or rejects, which fails this registration too (its copy
   * is removed). Where the driver can fill a layer before its parent is known
   * (StorageDriver.setParent), the unpacking starts at once, with no parent, and the layer is put
   * on its parent once that is registered; elsewhere the unpacking waits for the parent. A layer
   * waiting for its parent holds no unpack slot. Otherwise as register(): a duplicate chain ID
   * gives the existing layer, a parent removed meanwhile is a conflict, the result is retained
   * once for the caller.
   */
  async registerBeforeParent(diff: Readable, parent: Promise<string | null>, options: RegisterOptions = {}): Promise<Layer> {
    // Rejected before it is awaited (the parent failed while this one unpacks), it must not count as unhandled.
    parent.catch(() => undefined);
    if (!this.driver.setParent) return this.register(diff, await parent, options);
    return this.putOnParent(await this.unpackInSlot(diff, null, options), parent);
  }

  /**
   * registerBeforeParent() for bytes that may turn out not to be a layer at all (a big file of an
   * image archive, whose manifest comes after it): starts only where the driver fills a layer
   * before its parent is known and a guess's slot is free now, else returns undefined and
   * nothing is started, so the caller never waits for a slot on a guess. Rejecting `parent`
   * drops the unpacked copy (the registration then rejects with that reason). `growing`: `diff`
   * is a file still being written (see ExtractOptions.growing).
   */
  registerAhead(diff: Readable, parent: Promise<string | null>, options: { growing?: GrowingFile } = {}): AheadRegistration | undefined {
    if (!this.driver.setParent) return undefined;
    const release = this.guesses.tryAcquire();
    if (!release) return undefined;
    parent.catch(() => undefined);
    const unpacked = this.registerUnpacking(diff, null, { growing: options.growing }).finally(release);
    const layer = unpacked.then((done) => this.putOnParent(done, parent));
    return { unpacked: unpacked.then(({ diffId, size, compression }) => ({ diffId, size, compression: compression! })), layer };
  }

  /** Records a layer unpacked with no parent once `parent` is registered; drops it if that fails. */
  private async putOnParent(unpacked: Unpacked, parent: Promise<string | null>): Promise<Layer> {
    let parentLayer: Layer | null;
    try {
      const parentId = await parent;
      if (parentId !== null && !this.has(parentId)) throw conflict(`registering layer: parent layer ${parentId} was removed meanwhile`);
      parentLayer = parentId === null ? null : this.get(parentId);
    } catch (err) {
      await this.rollBack(unpacked.cacheId, err);
      throw err;
    }
    return this.record(unpacked, parentLayer);
  }

  /**
   * Whether a registerBeforeParent called now (in the same tick) starts unpacking at once, its
   * parent registered or not: the driver can fill a layer before its parent (setParent) and an
   * unpack slot is free. A caller that feeds the layer from a socket asks, so as not to hold the
   * socket idle while it waits.
   */
  unpacksAtOnce(): boolean {
    return this.driver.setParent !== undefined && this.unpacks.free;
  }

  private async unpackInSlot(diff: Readable, parentLayer: Layer | null, options: RegisterOptions): Promise<Unpacked> {
    const release = await this.unpackSlot(diff);
    try {
      return await this.registerUnpacking(diff, parentLayer, options);
    } finally {
      release();
    }
  }

  /**
   * A place among the MAX_CONCURRENT_UNPACKS layers being unpacked (each runs an extract helper
   * process), so a flood of imports queues here instead of starting a process each. A diff that
   * closes while it waits (its client went away) gives up its turn.
   */
  private async unpackSlot(diff: Readable): Promise<() => void> {
    const closed = new AbortController();
    const onClose = () => closed.abort(wrap(diff.errored ?? new Error('the layer stream closed'), 'registering layer: waiting to unpack'));
    // Closed already (while its registration waited for the parent): the 'close' event is past.
    if (diff.destroyed) onClose();
    diff.once('close', onClose);
    try {
      return await this.unpacks.acquire(closed.signal);
    } finally {
      diff.off('close', onClose);
    }
  }

  /**
   * Makes a driver layer over `parentLayer` and fills it with `diff`, computing the diff ID; it
   * stays marked pending until `record` records it.
   *
   * `verifiedDiffId`: the sha256 of `diff`, which is then the layer tar as it is (not decompressed),
   * checked by the caller (an uncompressed blob of the content store, verified when it was
   * stored), or the promise of it (a blob being stored as it is unpacked, whose digest the content
   * store computes anyway), so it is not computed a second time. A rejected promise fails the
   * registration.
   */
  private async registerUnpacking(
    diff: Readable,
    parentLayer: Layer | null,
    { verifiedDiffId, blob, growing }: RegisterOptions & { growing?: GrowingFile },
  ): Promise<Unpacked> {
    const cacheId = randomBytes(16).toString('hex');
    await this.markPending(cacheId);
    let diffId: Digest;
    let size: number;
    let extracted: Extracted | undefined;
    try {
      await this.driver.create(cacheId, parentLayer?.cacheId ?? null);
      if (verifiedDiffId) {
        ({ size } = await this.driver.applyDiff(cacheId, diff));
        diffId = await verifiedDiffId;
      } else {
        // Decompressed and hashed by the extractor in the same pass (gzip in berth-untar itself).
        extracted = await this.driver.applyDiff(cacheId, diff, { decompress: true, digest: true, blob, growing });
        size = extracted.size;
        diffId = extracted.diffId!;
      }
    } catch (err) {
      await this.rollBack(cacheId, err);
      throw wrap(err, 'registering layer');
    }
    return { cacheId, diffId, size, compression: extracted?.compression, parentCacheId: parentLayer?.cacheId ?? null };
  }

  /**
   * Records an unpacked driver layer over `parentLayer` (putting it there first if it was filled
   * with no parent), or drops it for the layer of the same chain ID that exists already.
   */
  private record({ cacheId, diffId, size, parentCacheId }: Unpacked, parentLayer: Layer | null): Promise<Layer> {
    const chainId = chainIdOf(parentLayer?.chainId ?? null, diffId);
    return this.locked(async () => {
      const existing = this.layers.get(chainId);
      if (existing || (parentLayer && !this.layers.has(parentLayer.chainId))) {
        await this.dropDriverLayer(cacheId);
        if (!existing) throw conflict(`registering layer: parent layer ${parentLayer!.chainId} was removed meanwhile`);
        this.retains.acquire(chainId);
        return existing;
      }
      if (parentLayer && parentCacheId !== parentLayer.cacheId) {
        try {
          await this.driver.setParent!(cacheId, parentLayer.cacheId);
        } catch (err) {
          await this.rollBack(cacheId, err);
          throw wrap(err, 'registering layer');
        }
      }
      const layer: Layer = { chainId, diffId, parent: parentLayer?.chainId ?? null, size, cacheId };
      await writeJsonAtomic(this.layerFile(chainId), layer);
      await this.unmarkPending(cacheId);
      this.layers.set(chainId, layer);
      this.retains.acquire(chainId);
      return layer;
    });
  }

  get(chainId: string): Layer {
    digestHex(chainId);
    const layer = this.layers.get(chainId as Digest);
    if (!layer) throw notFound(`layer ${chainId} not found`);
    return layer;
  }

  list(): Layer[] {
    return [...this.layers.values()];
  }

  has(chainId: string): boolean {
    return this.layers.has(chainId as Digest);
  }

  retain(chainId: string): void {
    this.retains.acquire(this.get(chainId).chainId);
  }

  /** Drops one retain; removes the layer, then its parents, as far as nothing keeps them. */
  async release(chainId: string): Promise<void> {
    const layer = this.get(chainId);
    if (this.retains.count(layer.chainId) === 0) throw conflict(`layer ${chainId} is not retained`);
    this.retains.release(layer.chainId);
    await this.locked(() => this.removeUnused(layer.chainId));
  }

  /**
   * Removes the layers nothing keeps: those an operation had registered but not yet handed to an
   * image when the daemon stopped (a load or import cut short by kill -9). Call it once every
   * holder has retained its layers again (see the class comment). Resolves with what it removed.
   */
  async removeUnreferenced(): Promise<Digest[]> {
    return this.locked(async () => {
      const before = new Set(this.layers.keys());
      for (const chainId of before) if (this.layers.has(chainId)) await this.removeUnused(chainId);
      return [...before].filter((chainId) => !this.layers.has(chainId));
    });
  }

  async createContainerLayer(containerId: string, parentChainId: string | null): Promise<void> {
    checkLayerId(containerId);
    await this.locked(async () => {
      if (this.containers.has(containerId)) throw alreadyExists(`container layer ${containerId} already exists`);
      const parent = parentChainId === null ? null : this.get(parentChainId);
      await this.markPending(containerId);
      try {
        await this.driver.create(containerId, parent?.cacheId ?? null, { writable: true });
      } catch (err) {
        await this.rollBack(containerId, err);
        throw wrap(err, `creating container layer ${containerId}`);
      }
      const layer: ContainerLayer = { containerId, parent: parent?.chainId ?? null };
      await writeJsonAtomic(this.containerFile(containerId), layer);
      await this.unmarkPending(containerId);
      this.containers.set(containerId, layer);
    });
  }

  /** Mounts the container's layer; returns its root filesystem path. */
  async mountContainerLayer(containerId: string): Promise<string> {
    this.containerLayer(containerId);
    return this.driver.get(containerId);
  }

  async unmountContainerLayer(containerId: string): Promise<void> {
    this.containerLayer(containerId);
    await this.driver.put(containerId);
  }

  /** Ids of the containers that have a layer, e.g. to sweep those whose container is gone. */
  containerLayerIds(): string[] {
    return [...this.containers.keys()];
  }

  /** Removes the container's layer (it must be unmounted), then image layers nothing keeps. */
  async removeContainerLayer(containerId: string): Promise<void> {
    await this.locked(async () => {
      const layer = this.containerLayer(containerId);
      await this.markPending(containerId);
      await rm(this.containerFile(containerId));
      this.containers.delete(containerId);
      await this.dropDriverLayer(containerId);
      if (layer.parent !== null) await this.removeUnused(layer.parent);
    });
  }

  /** `docker diff`: what the container changed in its image's files. */
  async containerLayerChanges(containerId: string): Promise<Change[]> {
    this.containerLayer(containerId);
    return this.driver.changes(containerId);
  }

  /** The container's changes as an uncompressed OCI layer tar (what commit and export build on). */
  async containerLayerDiff(containerId: string): Promise<Readable> {
    this.containerLayer(containerId);
    return this.driver.diff(containerId);
  }

  /** containerLayerDiff packed into the new file `path` (see StorageDriver.diffToFile). */
  async containerLayerDiffToFile(containerId: string, path: string): Promise<{ digest: Digest; size: number }> {
    this.containerLayer(containerId);
    return this.driver.diffToFile(containerId, path);
  }

  /**
   * Sizes for `docker ps -s` and inspect `?size=1`, as moby computes them: SizeRw is what the
   * container's own layer holds, SizeRootFs that plus every image layer under it.
   */
  async containerLayerSize(containerId: string): Promise<{ sizeRw: number; sizeRootFs: number }> {
    const layer = this.containerLayer(containerId);
    const sizeRw = (await this.driver.usage(containerId)).size;
    let sizeRootFs = sizeRw;
    for (let id = layer.parent; id !== null; id = this.get(id).parent) sizeRootFs += await this.layerSize(id);
    return { sizeRw, sizeRootFs };
  }

  /** Bytes an image layer's own files take on disk (not those of the layers under it). */
  async layerSize(chainId: string): Promise<number> {
    const layer = this.get(chainId);
    // Image layers never change: measured once per daemon run.
    let size = this.layerSizes.get(layer.chainId);
    if (size === undefined) {
      size = (await this.driver.usage(layer.cacheId)).size;
      this.layerSizes.set(layer.chainId, size);
    }
    return size;
  }

  /** The driver's paths for inspect's GraphDriver.Data. */
  async containerLayerMetadata(containerId: string): Promise<Record<string, string>> {
    this.containerLayer(containerId);
    return this.driver.metadata(containerId);
  }

  /** The driver's paths of an image layer (with everything under it), for image inspect's GraphDriver.Data. */
  async layerMetadata(chainId: string): Promise<Record<string, string>> {
    return this.driver.metadata(this.get(chainId).cacheId);
  }

  async status(): Promise<Array<[string, string]>> {
    return this.driver.status();
  }

  /** Unmounts everything; called on daemon shutdown. */
  async cleanup(): Promise<void> {
    await this.driver.cleanup();
  }

  private containerLayer(containerId: string): ContainerLayer {
    const layer = this.containers.get(containerId);
    if (!layer) throw notFound(`container layer ${containerId} not found`);
    return layer;
  }

  private async removeUnused(chainId: Digest): Promise<void> {
    for (let id: Digest | null = chainId; id !== null && !this.isKept(id); ) {
      const layer: Layer = this.layers.get(id)!;
      await this.markPending(layer.cacheId);
      await rm(join(this.root, 'layers', digestHex(id)), { recursive: true, force: true });
      this.layers.delete(id);
      this.layerSizes.delete(id);
      await this.dropDriverLayer(layer.cacheId);
      id = layer.parent;
    }
  }

  private isKept(chainId: Digest): boolean {
    if (this.retains.count(chainId) > 0) return true;
    for (const layer of this.layers.values()) if (layer.parent === chainId) return true;
    for (const layer of this.containers.values()) if (layer.parent === chainId) return true;
    return false;
  }

  private async markPending(cacheId: string): Promise<void> {
    await writeFile(join(this.root, 'pending', cacheId), '');
  }

  private async unmarkPending(cacheId: string): Promise<void> {
    await rm(join(this.root, 'pending', cacheId), { force: true });
  }

  /**
   * Removes a driver layer whose making failed with `cause`. When that fails too (the disk that
   * was full still is), the pending marker stays for recovery, and `cause` is what the caller
   * reports: it says what went wrong, the rollback's failure only echoes it.
   */
  private async rollBack(cacheId: string, cause: unknown): Promise<void> {
    await this.dropDriverLayer(cacheId).catch((err: unknown) => {
      this.logger?.warn('could not remove a half-made layer; recovery removes it at the next start', { cacheId, err, cause });
    });
  }

  private async dropDriverLayer(cacheId: string): Promise<void> {
    await this.driver.remove(cacheId);
    await this.unmarkPending(cacheId);
  }

  private layerFile(chainId: Digest): string {
    return join(this.root, 'layers', digestHex(chainId), 'layer.json');
  }

  private containerFile(containerId: string): string {
    return join(this.root, 'containers', `${containerId}.json`);
  }

  private locked<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.serial.then(operation);
    this.serial = result.catch(() => undefined);
    return result;
  }
}
