import type { Readable } from 'node:stream';
import type { Extracted, ExtractTarOptions } from '../archive/index.js';
import type { Change } from './changes.js';
import type { Digest } from './digest.js';
import type { Usage } from './usage.js';

export type { Change } from './changes.js';
export type { Usage } from './usage.js';

/**
 * A StorageDriver keeps layers: directories of files, each one a copy-on-write child of a parent
 * layer (or of nothing). Image layers are filled once with `applyDiff` and never change again;
 * a container's layer is created writable over its image's top layer and mounted while the
 * container runs.
 *
 * Names of parameters:
 * - `id`: the driver's own name for a layer (the layer store picks it; a container layer's id is
 *   the container id). Only [a-zA-Z0-9_.-] characters.
 * - `parent`: the id of the layer this one starts from, or null for a base layer.
 *
 * Life cycle of an image layer:
 *   create(id, parent) → applyDiff(id, tar) → (get/put as a lower layer of others) → remove(id)
 *   or, where the driver has setParent (see there):
 *   create(id, null) → applyDiff(id, tar) → setParent(id, parent) → … → remove(id)
 * Life cycle of a container layer:
 *   create(id, imageTop, { writable: true }) → get(id) = rootfs path → … container runs … →
 *   put(id) → remove(id)
 *
 * Example: an image with layers L1 ← L2, and a container C on it.
 *   create('L1', null); applyDiff('L1', tar1)        // L1 holds tar1's files
 *   create('L2', 'L1'); applyDiff('L2', tar2)        // L2 = L1 + tar2, whiteouts delete
 *   create('C', 'L2', { writable: true })
 *   const root = await get('C')                       // root shows L1+L2; writes land in C only
 *   await changes('C')     // [{ path: '/etc', kind: 'C' }, { path: '/etc/new', kind: 'A' }]
 *   diff('C')              // the same as an OCI layer tar: what commit would store
 *   await usage('C')       // { size: bytes C's own files take, inodes }
 *   await put('C'); await remove('C')
 *   const view = await readOnlyView('L2')             // L1+L2, read-only (for cp, commit, build)
 *   await put('L2')
 *
 * `get`, `readOnlyView` and `put` are reference counted: a layer mounted twice is unmounted on
 * the second put.
 * Every driver passes the shared suite in test/integration/storage-driver-suite.ts.
 */
export interface StorageDriver {
  readonly name: string;
  /** Makes an empty layer on top of `parent`. Fails with already-exists if `id` exists. */
  create(id: string, parent: string | null, options?: { writable?: boolean }): Promise<void>;
  /** Unpacks an OCI layer tar (uncompressed, unless `options.decompress`) into a layer just made
   *  by `create`, translating whiteouts to this driver's form. Runs confined (see src/archive).
   *  Returns the bytes of the uncompressed tar, and its diff ID when `options.digest` asks. */
  applyDiff(id: string, diff: Readable, options?: ApplyDiffOptions): Promise<Extracted>;
  /**
   * Puts an image layer made with no parent (`create(id, null)`, then filled by `applyDiff`) on
   * top of `parent`, as if it had been created there. Present only where a layer's own files do
   * not depend on its parent's: overlay records whiteouts as they are and looks at the parent
   * only when mounted, so the layers of a pull can all be filled at once, as they download, and
   * be chained once their parents are registered. Absent where filling works on the parent's
   * files (vfs applies the diff to a copy of its parent: the parent comes first). The layer must
   * not be mounted nor have a parent yet.
   */
  setParent?(id: string, parent: string): Promise<void>;
  /** Mounts (or otherwise makes ready) the layer and returns the path of its root filesystem. */
  get(id: string): Promise<string>;
  /** Mounts the layer with everything under it read-only and returns its path; `put` releases it. */
  readOnlyView(id: string): Promise<string>;
  /** Releases one `get` (or, when none is held, one `readOnlyView`); the last one unmounts. */
  put(id: string): Promise<void>;
  /** The layer's changes against its parent, as `docker diff` lists them (see changes.ts). */
  changes(id: string): Promise<Change[]>;
  /** The layer's changes as an OCI layer tar (uncompressed), with `.wh.` whiteouts for deletions. */
  diff(id: string): Promise<Readable>;
  /** `diff` written into the new file `path` (durable when this resolves, removed by the caller on
   *  failure), with the sha256 and size of its bytes: a commit's layer, packed without passing
   *  through the daemon. */
  diffToFile(id: string, path: string): Promise<{ digest: Digest; size: number }>;
  /** Disk use of the layer's own changes (not of its parents): for `docker ps -s` and image sizes. */
  usage(id: string): Promise<Usage>;
  exists(id: string): Promise<boolean>;
  /** Removes the layer; it must not be mounted. Removing a missing layer is not an error. */
  remove(id: string): Promise<void>;
  /** Lines for `docker info`'s DriverStatus, e.g. [["Backing Filesystem", "extfs"]]. */
  status(): Promise<Array<[string, string]>>;
  /** The driver's paths for inspect's GraphDriver.Data (LowerDir, UpperDir, MergedDir, WorkDir). */
  metadata(id: string): Promise<Record<string, string>>;
  /** Unmounts everything this driver mounted; called on daemon shutdown. */
  cleanup(): Promise<void>;
}

export type ApplyDiffOptions = Omit<ExtractTarOptions, 'whiteouts'>;

export type StorageDriverFactory = (root: string) => Promise<StorageDriver>;

const factories = new Map<string, StorageDriverFactory>();

/** Drivers register themselves from their own module (src/storage/drivers/<name>/index.ts). */
export function registerStorageDriver(name: string, factory: StorageDriverFactory): void {
  factories.set(name, factory);
}

export function storageDriverNames(): string[] {
  return [...factories.keys()];
}

export function storageDriverFactory(name: string): StorageDriverFactory | undefined {
  return factories.get(name);
}
