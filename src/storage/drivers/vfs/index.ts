import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { extractTar, packDiff, packDiffToFile, type Extracted, type LayerDiffEntry } from '../../../archive/index.js';
import { writeFileAtomic } from '../../../common/atomic-file.js';
import { MNT_DETACH, umount2 } from '../../../native/index.js';
import { layerChanges, withParentFolders, type LayerChange } from '../../changes.js';
import { alreadyExists, conflict, errnoCode, notFound, wrap } from '../../../common/errors.js';
import { registerStorageDriver, type ApplyDiffOptions, type Change, type StorageDriver, type Usage } from '../../driver.js';
import type { Digest } from '../../digest.js';
import { checkLayerId } from '../../layer-id.js';
import { backingFilesystem, bindReadOnly, unmountAllUnder } from '../../mounts.js';
import { pathsUsage } from '../../usage.js';
import { RefCounts } from '../../ref-counts.js';

const run = promisify(execFile);

/** Copies being made are named ROOT/dir/.partial-*; one left there was cut short by a crash. */
const PARTIAL_PREFIX = '.partial-';

/**
 * The simplest driver, for any filesystem: a layer is a full copy of its parent at
 * ROOT/dir/<id>, and whiteouts in a diff delete files from that copy. Slow and large, but needs
 * no mounts, so it works where overlayfs does not (e.g. on top of overlayfs itself).
 * ROOT/parents/<id> names the layer's parent (empty for a base layer): changes, diff and usage
 * compare the copy with it. ROOT/view/<id> is the read-only bind mount of readOnlyView.
 */
class VfsDriver implements StorageDriver {
  readonly name = 'vfs';
  private readonly users = new RefCounts();
  private readonly views = new RefCounts();

  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<VfsDriver> {
    const layersDir = join(resolve(root), 'dir');
    await mkdir(layersDir, { recursive: true });
    await mkdir(join(resolve(root), 'parents'), { recursive: true });
    // Reference counts live in memory: views found now were left by a daemon that stopped.
    await unmountAllUnder(join(resolve(root), 'view'));
    for (const name of await readdir(layersDir)) {
      if (name.startsWith(PARTIAL_PREFIX)) await rm(join(layersDir, name), { recursive: true, force: true });
    }
    return new VfsDriver(resolve(root));
  }

  async create(id: string, parent: string | null): Promise<void> {
    const dir = this.dir(id);
    if (existsSync(dir)) throw alreadyExists(`layer ${id} already exists`);
    const partial = join(this.root, 'dir', `${PARTIAL_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      if (parent === null) {
        await mkdir(partial, { mode: 0o755 });
      } else {
        await this.requireLayer(parent);
        // One cp per layer: it keeps owners, modes, times, links, devices and xattrs, never
        // follows the copied tree's symlinks, and shares blocks where the filesystem can.
        await run('cp', ['-a', '--reflink=auto', '--', this.dir(parent), partial]);
      }
      await writeFileAtomic(this.parentFile(id), parent ?? '', { durable: false, createDir: false });
      await rename(partial, dir);
    } catch (err) {
      await rm(partial, { recursive: true, force: true });
      throw wrap(err, `creating layer ${id}`);
    }
  }

  async applyDiff(id: string, diff: Readable, options: ApplyDiffOptions = {}): Promise<Extracted> {
    await this.requireLayer(id);
    return extractTar(diff, this.dir(id), { ...options, whiteouts: 'delete' });
  }

  async get(id: string): Promise<string> {
    await this.requireLayer(id);
    this.users.acquire(id);
    return this.dir(id);
  }

  async readOnlyView(id: string): Promise<string> {
    await this.requireLayer(id);
    const view = join(this.root, 'view', id);
    if (this.views.acquire(id) > 1) return view;
    try {
      mkdirSync(view, { recursive: true, mode: 0o700 });
      bindReadOnly(this.dir(id), view);
    } catch (err) {
      this.views.release(id);
      throw wrap(err, `mounting a read-only view of layer ${id}`);
    }
    return view;
  }

  async put(id: string): Promise<void> {
    if (this.users.count(id) > 0) this.users.release(id);
    else if (this.views.count(id) > 0 && this.views.release(id) === 0) umount2(join(this.root, 'view', id), MNT_DETACH);
  }

  async changes(id: string): Promise<Change[]> {
    return (await this.layerChanges(id)).map(({ path, kind }) => ({ path, kind }));
  }

  async diff(id: string): Promise<Readable> {
    return packDiff(this.dir(id), await this.diffEntries(id));
  }

  async diffToFile(id: string, path: string): Promise<{ digest: Digest; size: number }> {
    return packDiffToFile(this.dir(id), await this.diffEntries(id), path);
  }

  private async diffEntries(id: string): Promise<LayerDiffEntry[]> {
    return withParentFolders(await this.layerChanges(id));
  }

  async usage(id: string): Promise<Usage> {
    const changed = (await this.layerChanges(id)).filter((change) => change.kind !== 'D');
    return pathsUsage(this.dir(id), changed.map((change) => change.path));
  }

  /** The copy against its parent's copy (a layer made before parents were recorded: against nothing). */
  private async layerChanges(id: string): Promise<LayerChange[]> {
    await this.requireLayer(id);
    const parent = (
      await readFile(this.parentFile(id), 'utf8').catch((err: unknown) => {
        if (errnoCode(err) === 'ENOENT') return '';
        throw err;
      })
    ).trim();
    return layerChanges({ top: this.dir(id), parent: parent === '' ? null : this.dir(parent), complete: true });
  }

  async exists(id: string): Promise<boolean> {
    return existsSync(this.dir(id));
  }

  async remove(id: string): Promise<void> {
    if (this.users.count(id) > 0 || this.views.count(id) > 0) throw conflict(`layer ${id} is in use`);
    await rm(this.dir(id), { recursive: true, force: true });
    await rm(this.parentFile(id), { force: true });
  }

  async status(): Promise<Array<[string, string]>> {
    return [['Backing Filesystem', await backingFilesystem(this.root)]];
  }

  async metadata(id: string): Promise<Record<string, string>> {
    await this.requireLayer(id);
    return { Dir: this.dir(id) };
  }

  async cleanup(): Promise<void> {
    await unmountAllUnder(join(this.root, 'view'));
    this.users.clear();
    this.views.clear();
  }

  private dir(id: string): string {
    return join(this.root, 'dir', checkLayerId(id));
  }

  private parentFile(id: string): string {
    return join(this.root, 'parents', checkLayerId(id));
  }

  private async requireLayer(id: string): Promise<void> {
    if (!(await this.exists(id))) throw notFound(`layer ${id} not found`);
  }
}

registerStorageDriver('vfs', (root) => VfsDriver.open(root));
