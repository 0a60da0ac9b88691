import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { extractTar } from '../../../archive/index.js';
import { alreadyExists, conflict, notFound, wrap } from '../../../common/errors.js';
import { registerStorageDriver, type StorageDriver } from '../../driver.js';
import { checkLayerId } from '../../layer-id.js';
import { backingFilesystem } from '../../mounts.js';
import { RefCounts } from '../../ref-counts.js';

const run = promisify(execFile);

/** Copies being made are named ROOT/dir/.partial-*; one left there was cut short by a crash. */
const PARTIAL_PREFIX = '.partial-';

/**
 * The simplest driver, for any filesystem: a layer is a full copy of its parent at
 * ROOT/dir/<id>, and whiteouts in a diff delete files from that copy. Slow and large, but needs
 * no mounts, so it works where overlayfs does not (e.g. on top of overlayfs itself).
 */
class VfsDriver implements StorageDriver {
  readonly name = 'vfs';
  private readonly users = new RefCounts();

  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<VfsDriver> {
    const layersDir = join(resolve(root), 'dir');
    await mkdir(layersDir, { recursive: true });
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
      await rename(partial, dir);
    } catch (err) {
      await rm(partial, { recursive: true, force: true });
      throw wrap(err, `creating layer ${id}`);
    }
  }

  async applyDiff(id: string, diff: Readable): Promise<{ size: number }> {
    await this.requireLayer(id);
    return extractTar(diff, this.dir(id), { whiteouts: 'delete' });
  }

  async get(id: string): Promise<string> {
    await this.requireLayer(id);
    this.users.acquire(id);
    return this.dir(id);
  }

  async put(id: string): Promise<void> {
    this.users.release(id);
  }

  async exists(id: string): Promise<boolean> {
    return existsSync(this.dir(id));
  }

  async remove(id: string): Promise<void> {
    if (this.users.count(id) > 0) throw conflict(`layer ${id} is in use`);
    await rm(this.dir(id), { recursive: true, force: true });
  }

  async status(): Promise<Array<[string, string]>> {
    return [['Backing Filesystem', await backingFilesystem(this.root)]];
  }

  async metadata(id: string): Promise<Record<string, string>> {
    await this.requireLayer(id);
    return { Dir: this.dir(id) };
  }

  async cleanup(): Promise<void> {
    this.users.clear();
  }

  private dir(id: string): string {
    return join(this.root, 'dir', checkLayerId(id));
  }

  private async requireLayer(id: string): Promise<void> {
    if (!(await this.exists(id))) throw notFound(`layer ${id} not found`);
  }
}

registerStorageDriver('vfs', (root) => VfsDriver.open(root));
