/**
 * docker cp and docker export: `GET`/`HEAD`/`PUT /containers/{id}/archive` and
 * `GET /containers/{id}/export`. The files are reached in a confined helper (src/archive/copy.ts)
 * through a root this service holds for the whole operation: a running container's
 * /proc/PID/root, pinned by an open descriptor (so the copy sees its volumes and tmpfs mounts
 * and survives the container exiting meanwhile), or a stopped container's layer, mounted while
 * no other operation of the container runs (as moby holds the container's lock).
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { archivePath, exportRoot, extractArchive, statPath, type ContainerRoot, type PathStat } from '../../archive/index.js';
import { invalidParameter, isKind, notFound } from '../../common/errors.js';
import type { LayerStore } from '../../storage/layer-store.js';
import { Semaphore } from '../../storage/semaphore.js';
import type { ContainerRecord } from './model.js';
import { planMounts, recordedMounts } from './mount-plan.js';
import type { ContainerService } from './service.js';
import { hasLiveRun } from './state-machine.js';

export interface ExtractRequest {
  path: string;
  noOverwriteDirNonDir: boolean;
  /** Give every entry the container's user as owner (`docker cp -a`); with no User, the tar's owners stay. */
  copyUIDGID: boolean;
}

/** Copies at once: each runs a helper process (a Node of its own); the others wait their turn. */
const MAX_CONCURRENT_COPIES = 8;

export class ContainerArchiveService {
  private readonly copies = new Semaphore(MAX_CONCURRENT_COPIES);

  constructor(
    private readonly containers: ContainerService,
    private readonly layers: LayerStore,
  ) {}

  /** HEAD archive. */
  async stat(idOrName: string, path: string): Promise<PathStat> {
    const record = this.containers.inspect(idOrName);
    return this.withRoot(record, (root) => statPath(root, path)).catch(fileNotFound(idOrName, path));
  }

  /**
   * GET archive: `consume` gets the stat and the tar stream, and the root stays held until it
   * returns (it should pipe the tar out and resolve when done).
   */
  async archive(idOrName: string, path: string, consume: (stat: PathStat, tar: Readable) => Promise<void>): Promise<void> {
    const record = this.containers.inspect(idOrName);
    await this.withRoot(record, async (root) => {
      const { stat, tar } = await archivePath(root, path).catch(fileNotFound(idOrName, path));
      this.containers.publish('archive-path', record);
      try {
        await consume(stat, tar);
      } finally {
        tar.destroy();
      }
    });
  }

  /** PUT archive: unpacks `tar` into the directory `path` of the container. */
  async extract(idOrName: string, request: ExtractRequest, tar: Readable): Promise<void> {
    const record = this.containers.inspect(idOrName);
    if (record.hostConfig.ReadonlyRootfs) throw invalidParameter('container rootfs is marked read-only');
    const options = {
      noOverwriteDirNonDir: request.noOverwriteDirNonDir,
      user: request.copyUIDGID && record.config.User ? record.config.User : undefined,
    };
    await this.withRoot(record, (root) => extractArchive(root, request.path, tar, options)).catch(fileNotFound(idOrName, request.path));
    this.containers.publish('extract-to-dir', record);
  }

  /** GET export: `consume` gets the tar of the container's filesystem (its layer, without mounts). */
  async export(idOrName: string, consume: (tar: Readable) => Promise<void>): Promise<void> {
    const record = this.containers.inspect(idOrName);
    const release = await this.copies.acquire();
    await this.withLayer(record, async (root) => {
      const tar = exportRoot(root);
      this.containers.publish('export', record);
      try {
        await consume(tar);
      } finally {
        tar.destroy();
      }
    }, false).finally(release);
  }

  private async withRoot<T>(record: ContainerRecord, use: (root: ContainerRoot) => Promise<T>): Promise<T> {
    const release = await this.copies.acquire();
    try {
      return await this.withPinnedRoot(record, use);
    } finally {
      release();
    }
  }

  private async withPinnedRoot<T>(record: ContainerRecord, use: (root: ContainerRoot) => Promise<T>): Promise<T> {
    const pinned = await this.containers.exclusive(record, async () =>
      hasLiveRun(record.state) ? open(`/proc/${record.state.Pid}/root`, constants.O_RDONLY | constants.O_DIRECTORY) : undefined,
    );
    if (pinned === undefined) return this.withLayer(record, use);
    try {
      return await use({ fd: pinned.fd });
    } finally {
      await pinned.close();
    }
  }

  /**
   * The container's layer, mounted (again, counted, if it runs) while no other operation of it
   * runs; with `withMounts`, the binds its run would have (the generated /etc files, volumes), as
   * moby mounts them for cp. Export is of the layer alone, as Docker's.
   */
  private withLayer<T>(record: ContainerRecord, use: (root: ContainerRoot) => Promise<T>, withMounts = true): Promise<T> {
    const binds = withMounts ? planMounts(record, recordedMounts(record)).filter((m) => m.type === 'bind').map(({ source, destination }) => ({ source, destination })) : [];
    return this.containers.exclusive(record, async () => {
      const path = await this.layers.mountContainerLayer(record.id);
      try {
        return await use({ path, binds });
      } finally {
        await this.layers.unmountContainerLayer(record.id);
      }
    });
  }
}

/** Docker's 404 for a path that is not in the container. */
function fileNotFound(idOrName: string, path: string): (err: unknown) => never {
  return (err) => {
    if (isKind(err, 'not-found')) throw notFound(`Could not find the file ${path} in container ${idOrName}`, err);
    throw err;
  };
}
