import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../../common/atomic-file.js';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { extractTar, packDiff, packDiffToFile, type Extracted, type LayerDiffEntry } from '../../../archive/index.js';
import { alreadyExists, BerthError, conflict, errnoCode, invalidParameter, notFound, unavailable, wrap } from '../../../common/errors.js';
import { MNT_DETACH, mountFrom, removeTree, umount2, umount2Async } from '../../../native/index.js';
import { layerChanges, withParentFolders, type LayerChange } from '../../changes.js';
import { registerStorageDriver, type ApplyDiffOptions, type Change, type StorageDriver, type Usage } from '../../driver.js';
import type { Digest } from '../../digest.js';
import { checkLayerId } from '../../layer-id.js';
import { backingFilesystem, bindReadOnly, unmountAllUnder } from '../../mounts.js';
import { directoryUsage } from '../../usage.js';
import { RefCounts } from '../../ref-counts.js';

/**
 * overlayfs layers, laid out as moby's overlay2 driver does:
 *   ROOT/<id>/diff     the layer's own files (overlay's upperdir when mounted)
 *   ROOT/<id>/work     overlay's workdir
 *   ROOT/<id>/merged   the mount point
 *   ROOT/<id>/link     the layer's short name SHORT, with ROOT/l/SHORT -> ../<id>/diff
 *   ROOT/<id>/lower    "SHORT1:SHORT2:…", the parent's diff first, down to the base layer
 *   ROOT/<id>/view     the mount point of readOnlyView: the layer's diff and lowers, no upper
 *   ROOT/<id>/parent-view-*  the parent's read-only view while changes are computed
 * The mount options (at most one page) name the lower layers by their short links, relative to
 * ROOT, the mount's working directory (native mountFrom, as moby's): 29 bytes a layer, so that
 * chains reach Docker's 128 lower layers. A layer without a parent needs no mount: its diff is its root
 * filesystem.
 *
 * `link` is written (atomically) before the l/ symlink it names is made, so a layer whose link
 * file is missing or unreadable has no symlink to remove — or one a scan of l/ finds.
 */
class OverlayDriver implements StorageDriver {
  readonly name = 'overlay';
  private readonly mounts = new RefCounts();
  private readonly views = new RefCounts();
  /** Unmounts of a layer's merged mount under way (off the event loop); a get waits for its layer's. */
  private readonly unmounting = new Map<string, Promise<void>>();

  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<OverlayDriver> {
    const filesystems = await readFile('/proc/filesystems', 'utf8');
    if (!/\toverlay$/m.test(filesystems)) throw unavailable('overlay storage driver: the kernel has no overlay filesystem');
    const absoluteRoot = resolve(root);
    await mkdir(join(absoluteRoot, 'l'), { recursive: true });
    const backing = await backingFilesystem(absoluteRoot);
    if (backing === 'overlayfs') throw unavailable(`overlay storage driver: ${absoluteRoot} is itself on overlayfs`);
    // Reference counts live in memory: mounts found now were left by a daemon that stopped.
    await unmountAllUnder(absoluteRoot);
    return new OverlayDriver(absoluteRoot);
  }

  async create(id: string, parent: string | null): Promise<void> {
    const dir = this.dir(id);
    const lowers = parent === null ? [] : await this.childLowers(id, parent);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw alreadyExists(`layer ${id} already exists`, err);
      throw err;
    }
    await mkdir(join(dir, 'diff'), { mode: 0o755 });
    const short = shortName();
    // Not fsynced: a layer a crash cuts short is removed at start (pending markers), scan included.
    await writeFileAtomic(join(dir, 'link'), short, { durable: false, createDir: false });
    await symlink(join('..', id, 'diff'), this.linkPath(short));
    if (parent !== null) await this.writeLowers(id, lowers);
  }

  /** A layer's diff holds its own files and whiteouts only: its parent is needed when mounted, not before. */
  async setParent(id: string, parent: string): Promise<void> {
    await this.requireLayer(id);
    if (this.mounts.count(id) > 0 || this.views.count(id) > 0) throw conflict(`layer ${id} is in use`);
    if (this.readLowers(id).length > 0) throw new BerthError('internal', `layer ${id} has a parent already`);
    await this.writeLowers(id, await this.childLowers(id, parent));
  }

  async applyDiff(id: string, diff: Readable, options: ApplyDiffOptions = {}): Promise<Extracted> {
    await this.requireLayer(id);
    return extractTar(diff, join(this.dir(id), 'diff'), { ...options, whiteouts: 'overlay' });
  }

  /**
   * Synchronous from the count to the mount, so concurrent gets of one layer mount it once; an
   * unmount of the layer still under way is waited for first (else the new mount would be the one
   * it detached).
   */
  async get(id: string): Promise<string> {
    for (let pending = this.unmounting.get(id); pending; pending = this.unmounting.get(id)) await pending.catch(() => {});
    const dir = this.dir(id);
    if (!existsSync(dir)) throw notFound(`layer ${id} not found`);
    const lowers = this.readLowers(id);
    if (lowers.length === 0) {
      this.mounts.acquire(id);
      return join(dir, 'diff');
    }
    const merged = join(dir, 'merged');
    if (this.mounts.acquire(id) > 1) return merged;
    const options = `lowerdir=${lowers.map((short) => `l/${short}`).join(':')}`;
    try {
      mountFrom(this.root, 'overlay', merged, 'overlay', 0, `${options},upperdir=${id}/diff,workdir=${id}/work,index=off`);
    } catch (err) {
      this.mounts.release(id);
      throw wrap(err, `mounting layer ${id} (${lowers.length} lower layers)`);
    }
    return merged;
  }

  /** Synchronous from the count to the mount, as `get`. */
  async readOnlyView(id: string): Promise<string> {
    const dir = this.dir(id);
    if (!existsSync(dir)) throw notFound(`layer ${id} not found`);
    const view = join(dir, 'view');
    if (this.views.acquire(id) > 1) return view;
    try {
      const short = readFileSync(join(dir, 'link'), 'utf8').trim();
      mkdirSync(view, { recursive: true, mode: 0o700 });
      this.mountReadOnly([short, ...this.readLowers(id)], view);
    } catch (err) {
      this.views.release(id);
      throw wrap(err, `mounting a read-only view of layer ${id}`);
    }
    return view;
  }

  async put(id: string): Promise<void> {
    if (this.mounts.count(id) > 0) {
      if (this.mounts.release(id) === 0 && this.readLowers(id).length > 0) {
        // A writable overlay's unmount syncs its upper filesystem: tens of ms, off the event loop.
        const unmount = umount2Async(join(this.dir(id), 'merged'), MNT_DETACH).finally(() => this.unmounting.delete(id));
        this.unmounting.set(id, unmount);
        await unmount;
      }
    } else if (this.views.count(id) > 0 && this.views.release(id) === 0) {
      umount2(join(this.dir(id), 'view'), MNT_DETACH);
    }
  }

  async changes(id: string): Promise<Change[]> {
    return (await this.layerChanges(id)).map(({ path, kind }) => ({ path, kind }));
  }

  async diff(id: string): Promise<Readable> {
    return packDiff(join(this.dir(id), 'diff'), await this.diffEntries(id));
  }

  async diffToFile(id: string, path: string): Promise<{ digest: Digest; size: number }> {
    return packDiffToFile(join(this.dir(id), 'diff'), await this.diffEntries(id), path);
  }

  private async diffEntries(id: string): Promise<LayerDiffEntry[]> {
    return withParentFolders(await this.layerChanges(id));
  }

  async usage(id: string): Promise<Usage> {
    await this.requireLayer(id);
    return directoryUsage(join(this.dir(id), 'diff'));
  }

  /** The upper dir against the parent's view: a read-only mount of the layer's lowers. */
  private async layerChanges(id: string): Promise<LayerChange[]> {
    await this.requireLayer(id);
    const dir = this.dir(id);
    const lowers = this.readLowers(id);
    const top = join(dir, 'diff');
    if (lowers.length === 0) return layerChanges({ top, parent: null, complete: false });
    const parentView = join(dir, `parent-view-${randomBytes(6).toString('hex')}`);
    await mkdir(parentView, { mode: 0o700 });
    try {
      this.mountReadOnly(lowers, parentView);
      try {
        return await layerChanges({ top, parent: parentView, complete: false });
      } finally {
        umount2(parentView, MNT_DETACH);
      }
    } finally {
      await rm(parentView, { recursive: false, force: true }).catch(() => {});
    }
  }

  /** Mounts the diffs of `shorts` (top first) read-only at `target`. */
  private mountReadOnly(shorts: string[], target: string): void {
    // overlayfs without an upper dir needs two lower dirs; one is a read-only bind mount.
    if (shorts.length === 1) bindReadOnly(join(this.root, 'l', shorts[0]!), target);
    else mountFrom(this.root, 'overlay', target, 'overlay', 0, `lowerdir=${shorts.map((short) => `l/${short}`).join(':')}`);
  }

  async exists(id: string): Promise<boolean> {
    return existsSync(this.dir(id));
  }

  async remove(id: string): Promise<void> {
    const dir = this.dir(id);
    if (this.mounts.count(id) > 0 || this.views.count(id) > 0) throw conflict(`layer ${id} is in use`);
    await this.unmounting.get(id)?.catch(() => {});
    const short = await this.readLink(id);
    if (short !== undefined) await rm(this.linkPath(short), { force: true });
    else await this.removeLinksTo(id);
    await removeTree(dir);
  }

  async status(): Promise<Array<[string, string]>> {
    return [
      ['Backing Filesystem', await backingFilesystem(this.root)],
      ['Supports d_type', 'true'],
    ];
  }

  async metadata(id: string): Promise<Record<string, string>> {
    await this.requireLayer(id);
    const dir = this.dir(id);
    const lowers = await Promise.all(
      this.readLowers(id).map(async (short) => resolve(this.root, 'l', await readlink(join(this.root, 'l', short)))),
    );
    const data: Record<string, string> = { UpperDir: join(dir, 'diff') };
    if (lowers.length > 0) {
      Object.assign(data, { LowerDir: lowers.join(':'), MergedDir: join(dir, 'merged'), WorkDir: join(dir, 'work') });
    }
    return data;
  }

  async cleanup(): Promise<void> {
    await unmountAllUnder(this.root);
    this.mounts.clear();
    this.views.clear();
  }

  private dir(id: string): string {
    return join(this.root, checkLayerId(id));
  }

  private async requireLayer(id: string): Promise<void> {
    if (!(await this.exists(id))) throw notFound(`layer ${id} not found`);
  }

  /** The lower chain `id`, a child of `parent`, gets: the parent's diff, then the parent's lowers. */
  private async childLowers(id: string, parent: string): Promise<string[]> {
    await this.requireLayer(parent);
    const short = await this.readLink(parent);
    if (short === undefined) throw new BerthError('internal', `layer ${parent} has no valid link file`);
    const lowers = [short, ...this.readLowers(parent)];
    if (lowers.length > MAX_LOWERS) throw invalidParameter(`layer ${id}: max depth exceeded (${MAX_LOWERS} lower layers)`);
    return lowers;
  }

  /** Makes the layer a child: the work and mount dirs overlay needs, then the `lower` file that says so. */
  private async writeLowers(id: string, lowers: string[]): Promise<void> {
    const dir = this.dir(id);
    await mkdir(join(dir, 'work'), { mode: 0o700 });
    await mkdir(join(dir, 'merged'), { mode: 0o700 });
    await writeFile(join(dir, 'lower'), lowers.join(':'));
  }

  /** The layer's short name, or undefined when its link file is missing or not a short name. */
  private async readLink(id: string): Promise<string | undefined> {
    try {
      const short = (await readFile(join(this.dir(id), 'link'), 'utf8')).trim();
      return SHORT_NAME.test(short) ? short : undefined;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** ROOT/l/SHORT; anything but a short name (an empty one above all) would name l/ itself. */
  private linkPath(short: string): string {
    if (!SHORT_NAME.test(short)) throw new BerthError('internal', `overlay: invalid short link name ${JSON.stringify(short)}`);
    return join(this.root, 'l', short);
  }

  /** Removes the l/ links to the layer's diff, found by their targets. */
  private async removeLinksTo(id: string): Promise<void> {
    const target = join('..', id, 'diff');
    for (const short of await readdir(join(this.root, 'l'))) {
      if (!SHORT_NAME.test(short)) continue;
      const link = this.linkPath(short);
      if ((await readlink(link).catch(() => undefined)) === target) await rm(link, { force: true });
    }
  }

  private readLowers(id: string): string[] {
    try {
      return readFileSync(join(this.dir(id), 'lower'), 'utf8').split(':').filter(Boolean);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }
}

const SHORT_NAME_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SHORT_NAME = /^[A-Z0-9]{26}$/;

/** Docker's overlay2 limit: lower layers of one mount. */
const MAX_LOWERS = 128;

/** 26 random characters, as moby's overlay2 uses for its l/ links. */
function shortName(): string {
  return Array.from({ length: 26 }, () => SHORT_NAME_ALPHABET[randomInt(SHORT_NAME_ALPHABET.length)]).join('');
}

registerStorageDriver('overlay', (root) => OverlayDriver.open(root));
