import { EventEmitter } from 'node:events';
import { mkdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, conflict, invalidParameter, isKind, notModified, wrap } from '../../common/errors.js';
import { writeJsonAtomic } from '../../common/atomic-file.js';
import { newId } from '../../common/ids.js';
import type { Logger } from '../../common/logger.js';
import type { LayerStore } from '../../storage/layer-store.js';
import type { ImageStore } from '../images/image-store.js';
import { buildOciSpec } from '../../runtime/oci-spec.js';
import { seccompFor } from '../../runtime/seccomp.js';
import { resolveUser } from '../../runtime/user.js';
import { removeContainerCgroups } from '../../runtime/cgroups.js';
import { SeccompBpfCache } from '../../runtime/seccomp-bpf-cache.js';
import {
  connectAttach,
  ExitWatcher,
  launchContainer,
  readExitCode,
  readOomFlag,
  resizeTty,
} from '../../runtime/conmon.js';
import {
  containerState,
  deleteContainer,
  killContainer,
  resolveRuntime,
  startContainer,
  type Runtime,
} from '../../runtime/runtime.js';
import { AttachHub, type AttachClient } from './attach-hub.js';
import { completeHostConfig, mergeContainerConfig, processEnv } from './create-config.js';
import { writeEtcFiles } from './etc-files.js';
import { readLogs, type LogEntry, type LogReadOptions } from './log-reader.js';
import { initialState, type ContainerRecord } from './model.js';
import { generateName, normaliseName } from './names.js';
import { parseSignal } from './signals.js';
import type { ContainerStore } from './store.js';
import type { ContainerSpec } from './spec.js';
import type { StopOptions, WaitCondition, WaitResult } from './lifecycle-types.js';

export type { WaitCondition, WaitResult, StopOptions };

export interface ContainerServiceOptions {
  store: ContainerStore;
  images: ImageStore;
  layers: LayerStore;
  execRoot: string;
  defaultRuntime: string;
  logger: Logger;
}

const DEFAULT_STOP_TIMEOUT = 10;
const KILL_EXIT_GRACE_MS = 5000;

function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}
const CGROUP_PARENT = '/berth';

/**
 * The container use cases. Each container runs under its own conmon, so the daemon only
 * reacts: exits arrive as files in the exit dir (ExitWatcher), output through the attach socket
 * and the log file. All state changes go through here and are persisted in the store.
 */
export class ContainerService {
  private readonly events = new EventEmitter();
  private readonly hubs = new Map<string, AttachHub>();
  /** Release of a finished run's runtime state; a new start of the container waits for it. */
  private readonly cleanups = new Map<string, Promise<void>>();
  /** Work nobody waits for (a removed container's layer files); drained on close. */
  private readonly background = new Set<Promise<void>>();
  /** Starts under way, so that a second start of a container waits for the first (moby's lock). */
  private readonly starting = new Map<string, Promise<void>>();
  /** Exit handling under way (bookkeeping, saving, auto-removal); start, rm and rename wait for it. */
  private readonly exiting = new Map<string, Promise<void>>();
  /** Removals under way: an AutoRemove and a `rm -f` of one container share one removal. */
  private readonly removals = new Map<string, Promise<void>>();
  private readonly exitWatcher: ExitWatcher;
  private readonly seccompPrograms = new SeccompBpfCache();
  private readonly store: ContainerStore;
  private readonly images: ImageStore;
  private readonly layers: LayerStore;
  private readonly logger: Logger;

  constructor(private readonly options: ContainerServiceOptions) {
    this.store = options.store;
    this.images = options.images;
    this.layers = options.layers;
    this.logger = options.logger;
    this.events.setMaxListeners(0);
    this.exitWatcher = new ExitWatcher(this.exitDir);
    this.exitWatcher.on('exit', (id: string, code: number) => {
      this.onExit(id, code).catch((err) => this.logger.error('handling container exit', { id, err }));
    });
  }

  private get exitDir(): string {
    return join(this.options.execRoot, 'exits');
  }

  private bundleDir(id: string): string {
    return join(this.options.execRoot, 'containers', id);
  }

  private persistDir(id: string): string {
    return join(this.options.execRoot, 'persist', id);
  }

  private runtimeOf(record: ContainerRecord): Runtime {
    return resolveRuntime(record.hostConfig.Runtime, this.options.execRoot);
  }

  private hub(id: string): AttachHub {
    let hub = this.hubs.get(id);
    if (!hub) {
      hub = new AttachHub();
      this.hubs.set(id, hub);
    }
    return hub;
  }

  /** Starts watching exits and reconciles records with what is running after a restart. */
  async start(): Promise<void> {
    await mkdir(this.exitDir, { recursive: true });
    this.sweepOrphanLayers();
    await this.exitWatcher.start();
    for (const record of this.store.all()) {
      if (!record.state.Running) continue;
      const code = await readExitCode(this.exitDir, record.id);
      if (code !== undefined) {
        await this.onExit(record.id, code);
        continue;
      }
      const state = await containerState(this.runtimeOf(record), record.id).catch(() => undefined);
      // Still running: its rootfs lives on in its own mount namespace, whatever the host side
      // holds, so nothing is remounted (overlay refuses a second mount on a busy upper dir).
      if (state && (state.status === 'running' || state.status === 'created')) continue;
      this.logger.warn('container vanished while berthd was down', { id: record.id });
      await this.onExit(record.id, 255, 'container process vanished while berthd was not running');
    }
  }

  async close(): Promise<void> {
    this.exitWatcher.close();
    for (const hub of this.hubs.values()) hub.finish();
    await Promise.allSettled([...this.cleanups.values(), ...this.background]);
  }

  list(): ContainerRecord[] {
    return this.store.all().sort((a, b) => b.created.localeCompare(a.created));
  }

  inspect(idOrName: string): ContainerRecord {
    return this.store.resolve(idOrName);
  }

  async graphDriverData(record: ContainerRecord): Promise<Record<string, string>> {
    return this.layers.containerLayerMetadata(record.id);
  }

  async create(spec: ContainerSpec, requestedName?: string): Promise<{ record: ContainerRecord; warnings: string[] }> {
    if (spec.config.Image === '') throw invalidParameter('config cannot be empty in order to create a container');
    const name = requestedName ? normaliseName(requestedName) : this.freshName();
    const image = this.images.resolve(spec.config.Image);
    const { hostConfig, warnings } = completeHostConfig(spec.hostConfig, spec.endpoints, this.options.defaultRuntime);
    resolveRuntime(hostConfig.Runtime, this.options.execRoot); // unknown runtime → 400 before anything is made
    const config = mergeContainerConfig(spec.config, image.config.config ?? {});
    const id = newId();
    config.Hostname ||= id.slice(0, 12);
    this.store.reserveName(name, id);
    const dir = this.store.dir(id);
    const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
    const record: ContainerRecord = {
      id,
      name,
      created: new Date().toISOString(),
      path: command[0],
      args: command.slice(1),
      image: image.id,
      config,
      hostConfig,
      state: initialState(),
      driver: this.layers.driverName,
      restartCount: 0,
      logPath: join(dir, 'ctr.log'),
      hostnamePath: join(dir, 'hostname'),
      hostsPath: join(dir, 'hosts'),
      resolvConfPath: join(dir, 'resolv.conf'),
    };
    try {
      await mkdir(dir, { recursive: true });
      await this.layers.createContainerLayer(id, image.chainIds.at(-1) ?? null);
      await writeEtcFiles({ hostname: record.hostnamePath, hosts: record.hostsPath, resolvConf: record.resolvConfPath }, config.Hostname);
      await this.store.save(record);
    } catch (err) {
      this.store.releaseName(name, id);
      await this.layers.removeContainerLayer(id).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      throw wrap(err, 'creating container');
    }
    this.store.add(record);
    return { record, warnings };
  }

  private freshName(): string {
    for (let attempt = 0; ; attempt++) {
      const name = `/${generateName(attempt)}`;
      if (!this.store.hasName(name)) return name;
    }
  }

  async startContainer(idOrName: string): Promise<void> {
    const record = this.store.resolve(idOrName);
    await this.settled(record.id);
    if (record.state.Running) throw notModified();
    if (record.state.Status === 'removing' || record.state.Status === 'dead') {
      throw conflict(`cannot start a container that is being removed: ${record.id}`);
    }
    const started = this.runContainer(record);
    this.starting.set(record.id, started);
    try {
      await started;
    } finally {
      this.starting.delete(record.id);
    }
  }

  /**
   * Resolves once no start and no exit handling of the container is under way (nothing runs
   * between this and the caller's checks).
   */
  private async settled(id: string): Promise<void> {
    for (let pending; (pending = this.starting.get(id) ?? this.exiting.get(id)); ) await pending.catch(() => {});
  }

  /** Runs the container: mount, spec, conmon + runtime create, attach, runtime start. */
  private async runContainer(record: ContainerRecord): Promise<void> {
    await this.cleanups.get(record.id);
    const runtime = this.runtimeOf(record);
    const bundle = this.bundleDir(record.id);
    let mounted = false;
    try {
      const rootfs = await this.layers.mountContainerLayer(record.id);
      mounted = true;
      const compileKey = await this.writeBundle(record, rootfs, bundle, runtime);
      const hub = this.hub(record.id);
      const { pid } = await launchContainer({
        id: record.id,
        name: record.name.slice(1),
        runtime,
        bundleDir: bundle,
        logPath: record.logPath,
        tty: record.config.Tty,
        stdin: record.config.OpenStdin,
        exitDir: this.exitDir,
        persistDir: this.persistDir(record.id),
      });
      if (compileKey) await this.seccompPrograms.remember(compileKey, runtime, record.id);
      const [rows, cols] = record.hostConfig.ConsoleSize;
      if (record.config.Tty && rows > 0 && cols > 0) await resizeTty(bundle, rows, cols);
      if (hub.hasClients || record.config.OpenStdin) await hub.connect(() => connectAttach(bundle));
      Object.assign(record.state, {
        Status: 'running',
        Running: true,
        Pid: pid,
        ExitCode: 0,
        Error: '',
        OOMKilled: false,
        StartedAt: new Date().toISOString(),
      });
      // Saved before `start`: the exit (a durable save) may follow within a millisecond.
      await this.store.save(record, { durable: false });
      await startContainer(runtime, record.id);
    } catch (err) {
      await this.failedStart(record, err, mounted);
      throw err;
    }
  }

  /** Writes BUNDLE/config.json; returns the seccomp key to remember when crun compiles it. */
  private async writeBundle(record: ContainerRecord, rootfs: string, bundle: string, runtime: Runtime): Promise<string | undefined> {
    const user = await resolveUser(rootfs, record.config.User);
    const capAdd = record.hostConfig.CapAdd ?? [];
    const capDrop = record.hostConfig.CapDrop ?? [];
    const spec = buildOciSpec({
      rootfs,
      args: [record.path, ...record.args],
      env: processEnv(record.config, record.config.Hostname),
      cwd: record.config.WorkingDir || '/',
      user,
      hostname: record.config.Hostname,
      tty: record.config.Tty,
      consoleSize: record.config.Tty
        ? { height: record.hostConfig.ConsoleSize[0], width: record.hostConfig.ConsoleSize[1] }
        : undefined,
      mounts: [
        { destination: '/etc/hostname', source: record.hostnamePath, type: 'bind', options: ['rbind', 'rprivate'] },
        { destination: '/etc/hosts', source: record.hostsPath, type: 'bind', options: ['rbind', 'rprivate'] },
        { destination: '/etc/resolv.conf', source: record.resolvConfPath, type: 'bind', options: ['rbind', 'rprivate'] },
      ],
      capAdd,
      capDrop,
      readonlyRootfs: record.hostConfig.ReadonlyRootfs,
      cgroupsPath: `${CGROUP_PARENT}/${record.id}`,
      shmSize: record.hostConfig.ShmSize,
      privileged: false,
      seccomp: await seccompFor(capAdd, capDrop),
    });
    const compileKey = this.seccompPrograms.prepare(spec, runtime);
    await mkdir(bundle, { recursive: true });
    await writeJsonAtomic(join(bundle, 'config.json'), spec, { durable: false });
    return compileKey;
  }

  /** A start that failed leaves the container "created", with the error and exit code set. */
  private async failedStart(record: ContainerRecord, err: unknown, mounted: boolean): Promise<void> {
    const exitCode = err instanceof BerthError && err.exitCode !== undefined ? err.exitCode : 128;
    Object.assign(record.state, {
      Status: 'created',
      Running: false,
      Pid: 0,
      ExitCode: exitCode,
      Error: err instanceof Error ? err.message : String(err),
    });
    this.hubs.get(record.id)?.finish();
    // The runtime may hold a created container if `start` itself failed.
    await deleteContainer(this.runtimeOf(record), record.id, { force: true }).catch(() => {});
    if (mounted) await this.layers.unmountContainerLayer(record.id).catch(() => {});
    await rm(this.bundleDir(record.id), { recursive: true, force: true });
    await rm(this.persistDir(record.id), { recursive: true, force: true });
    await this.store.save(record);
    this.events.emit(`exit:${record.id}`, exitCode);
    if (record.hostConfig.AutoRemove) await this.removeRecord(record);
  }

  /** Records an exit once, however many reports of it arrive (watcher, reconciliation). */
  private onExit(id: string, code: number, error = ''): Promise<void> {
    const record = this.store.get(id);
    if (!record || !record.state.Running) {
      // A leftover of a run that already ended (a failed start, or a removed container).
      return unlink(join(this.exitDir, id)).catch(() => {});
    }
    // Registered before any await, so a start, rm or rename arriving now waits for all of it.
    const handling = this.handleExit(record, code, error).finally(() => this.exiting.delete(id));
    this.exiting.set(id, handling);
    return handling;
  }

  private async handleExit(record: ContainerRecord, code: number, error: string): Promise<void> {
    const id = record.id;
    Object.assign(record.state, {
      Status: 'exited',
      Running: false,
      Pid: 0,
      ExitCode: code,
      Error: error,
      OOMKilled: false,
      FinishedAt: new Date().toISOString(),
    });
    this.hubs.get(id)?.exited();
    record.state.OOMKilled = await readOomFlag(this.persistDir(id)).catch(() => false);
    const autoRemove = record.hostConfig.AutoRemove;
    // An auto-removed container's rootfs is unmounted with its layer, after the removal.
    if (!autoRemove) {
      await this.layers.unmountContainerLayer(id).catch((err) => this.logger.warn('unmounting rootfs', { id, err }));
    }
    // No fsync for a record about to be deleted: a crash in between is reconciled at start.
    await this.store.save(record, { durable: !autoRemove });
    // Only now that the code is saved may conmon's files go (a crash before keeps them to read).
    await unlink(join(this.exitDir, id)).catch(() => {});
    this.releaseRuntime(record);
    this.events.emit(`exit:${id}`, code);
    if (autoRemove) await this.removeRecord(record);
  }

  /**
   * Drops the runtime's state, the bundle and the cgroups of a finished run. Nobody waits on
   * this (it spawns the runtime, which costs milliseconds); a new start of the same container
   * and daemon shutdown do.
   */
  private releaseRuntime(record: ContainerRecord): void {
    const id = record.id;
    const release = (async () => {
      await deleteContainer(this.runtimeOf(record), id, { force: true }).catch((err) =>
        this.logger.warn('deleting runtime state', { id, err }),
      );
      await Promise.allSettled([
        rm(this.bundleDir(id), { recursive: true, force: true }),
        rm(this.persistDir(id), { recursive: true, force: true }),
        removeContainerCgroups(`${CGROUP_PARENT}/${id}`),
      ]);
    })();
    this.cleanups.set(id, release);
    void release.finally(() => {
      if (this.cleanups.get(id) === release) this.cleanups.delete(id);
    });
  }

  /** Resolves with the exit status once the condition holds; abort detaches the waiter. */
  wait(idOrName: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    const record = this.store.resolve(idOrName);
    if (condition === 'not-running' && !record.state.Running) {
      return Promise.resolve({ exitCode: record.state.ExitCode });
    }
    // Removal ends every wait: a container removed without running again never exits again.
    const events = condition === 'removed' ? [`removed:${record.id}`] : [`exit:${record.id}`, `removed:${record.id}`];
    return new Promise((resolve) => {
      const detach = () => {
        for (const event of events) this.events.off(event, listener);
        signal?.removeEventListener('abort', onAbort);
      };
      const listener = (code: number) => {
        detach();
        resolve({ exitCode: code });
      };
      // A client that goes away gets what dockerd writes then (nobody reads it, but the
      // handler finishes instead of waiting forever).
      const onAbort = () => {
        detach();
        resolve({ canceled: true });
      };
      for (const event of events) this.events.on(event, listener);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async kill(idOrName: string, number = 9): Promise<void> {
    const record = this.store.resolve(idOrName);
    if (!record.state.Running) throw conflict(`Container ${record.id} is not running`);
    await killContainer(this.runtimeOf(record), record.id, number);
  }

  /** SIGTERM (or the stop signal), then SIGKILL after the timeout; 304 if not running. */
  async stop(idOrName: string, options: StopOptions = {}): Promise<void> {
    const record = this.store.resolve(idOrName);
    if (!record.state.Running) throw notModified();
    const exited = this.wait(record.id, 'next-exit');
    const timeout = options.timeoutSeconds ?? record.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
    const stopSignal = options.signal ?? parseSignal(record.config.StopSignal || 'SIGTERM');
    await killContainer(this.runtimeOf(record), record.id, stopSignal).catch(() => {});
    if (timeout < 0) {
      await exited;
      return;
    }
    if (!(await settlesWithin(exited, timeout * 1000))) await this.killAndAwaitExit(record);
  }

  /**
   * SIGKILL and the exit it causes. When no exit is reported (conmon died with the container),
   * the runtime is asked, and a container it no longer runs is recorded as killed, so `stop`
   * and `rm -f` never hang on an exit that cannot come.
   */
  private async killAndAwaitExit(record: ContainerRecord): Promise<void> {
    if (!record.state.Running) return;
    const exited = this.wait(record.id, 'next-exit');
    const runtime = this.runtimeOf(record);
    await killContainer(runtime, record.id, 9).catch(() => {});
    if (await settlesWithin(exited, KILL_EXIT_GRACE_MS)) return;
    const state = await containerState(runtime, record.id).catch(() => undefined);
    if (!state || state.status === 'stopped') {
      await this.onExit(record.id, 137, 'the container was killed; conmon did not report its exit');
      return;
    }
    await exited;
  }

  /** `docker restart`: stop if running (as `stop`), then start. */
  async restart(idOrName: string, options: StopOptions = {}): Promise<void> {
    const record = this.store.resolve(idOrName);
    await this.stop(record.id, options).catch((err) => {
      if (!isKind(err, 'not-modified')) throw err;
    });
    await this.startContainer(record.id);
  }

  /** `docker rename`: the new name is taken first, so a clash leaves the old one in place. */
  async rename(idOrName: string, newName: string): Promise<void> {
    const record = this.store.resolve(idOrName);
    await this.settled(record.id);
    const name = normaliseName(newName);
    if (name === record.name) throw invalidParameter('Renaming a container with the same name as its current name');
    if (record.state.Status === 'removing' || record.state.Status === 'dead') {
      throw conflict(`cannot rename container ${record.id}: it is being removed`);
    }
    try {
      this.store.reserveName(name, record.id);
    } catch (err) {
      throw wrap(err, 'Error when allocating new name');
    }
    const oldName = record.name;
    record.name = name;
    try {
      await this.store.save(record);
    } catch (err) {
      record.name = oldName;
      this.store.releaseName(name, record.id);
      throw err;
    }
    this.store.releaseName(oldName, record.id);
  }

  /** `docker container prune`: removes every container that is not running; returns their ids. */
  async prune(matches: (record: ContainerRecord) => boolean = () => true): Promise<string[]> {
    const removed: string[] = [];
    for (const record of this.store.all()) {
      if (record.state.Running || !matches(record)) continue;
      try {
        await this.remove(record.id, { force: false });
        removed.push(record.id);
      } catch (err) {
        // As moby: one container that cannot go (started meanwhile, being removed) stops nothing.
        this.logger.warn('prune: container not removed', { id: record.id, err });
      }
    }
    return removed;
  }

  async remove(idOrName: string, options: { force: boolean }): Promise<void> {
    const record = this.store.resolve(idOrName);
    await this.settled(record.id);
    if (record.state.Status === 'removing') throw conflict(`removal of container ${record.id} is already in progress`);
    if (record.state.Running) {
      if (!options.force) {
        throw conflict(
          `You cannot remove a running container ${record.id}. Stop the container before attempting removal or force remove`,
        );
      }
      await this.killAndAwaitExit(record);
      await this.settled(record.id);
    }
    await this.removeRecord(record);
  }

  private removeRecord(record: ContainerRecord): Promise<void> {
    let removal = this.removals.get(record.id);
    if (!removal) {
      removal = this.deleteRecord(record).finally(() => this.removals.delete(record.id));
      this.removals.set(record.id, removal);
    }
    return removal;
  }

  private async deleteRecord(record: ContainerRecord): Promise<void> {
    if (!this.store.get(record.id)) return;
    record.state.Status = 'removing';
    this.hubs.get(record.id)?.exited(); // its clients still get the run's last output
    this.hubs.delete(record.id);
    try {
      await this.store.delete(record);
    } catch (err) {
      record.state.Status = 'dead'; // as moby: not startable, and `rm -f` tries again
      throw err;
    }
    this.events.emit(`removed:${record.id}`, record.state.ExitCode);
    this.inBackground(this.dropLayer(record.id));
  }

  /**
   * Unmounts and deletes a removed container's layer. Nobody waits for the files to go; a layer
   * left by a crash before this finished is swept when the daemon starts (sweepOrphanLayers).
   */
  private async dropLayer(id: string): Promise<void> {
    try {
      await this.layers.unmountContainerLayer(id);
      await this.layers.removeContainerLayer(id);
    } catch (err) {
      this.logger.warn('removing the layer of a removed container', { id, err });
    }
  }

  private inBackground(work: Promise<void>): void {
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
  }

  private sweepOrphanLayers(): void {
    for (const id of this.layers.containerLayerIds()) {
      if (!this.store.get(id)) this.inBackground(this.dropLayer(id));
    }
  }

  /** Attaches a client. Output flows while the container runs (now or at its next start). */
  async attach(idOrName: string, client: AttachClient): Promise<{ record: ContainerRecord; hub: AttachHub; detach: () => void }> {
    const record = this.store.resolve(idOrName);
    if (record.state.Status === 'removing' || record.state.Status === 'dead') {
      throw conflict(`cannot attach to container ${record.id}: it is being removed`);
    }
    const hub = this.hub(record.id);
    const detach = hub.add(client);
    try {
      if (record.state.Running) await hub.connect(() => connectAttach(this.bundleDir(record.id)));
    } catch (err) {
      detach();
      throw err;
    }
    return { record, hub, detach };
  }

  async resize(idOrName: string, height: number, width: number): Promise<void> {
    const record = this.store.resolve(idOrName);
    if (!record.state.Running) throw conflict(`Container ${record.id} is not running`);
    if (record.config.Tty) await resizeTty(this.bundleDir(record.id), height, width);
  }

  logs(idOrName: string, options: LogReadOptions, signal: AbortSignal): { record: ContainerRecord; entries: AsyncGenerator<LogEntry> } {
    const record = this.store.resolve(idOrName);
    const source = {
      path: record.logPath,
      isLive: () => record.state.Running,
      onStop: (callback: () => void) => {
        if (!record.state.Running) {
          callback();
          return () => {};
        }
        const event = `exit:${record.id}`;
        this.events.once(event, callback);
        return () => this.events.off(event, callback);
      },
    };
    return { record, entries: readLogs(source, options, signal) };
  }

  /** Containers using an image, for `rmi` conflict checks. */
  usersOfImage(imageId: string): Array<{ containerId: string; running: boolean }> {
    return this.store
      .all()
      .filter((c) => c.image === imageId)
      .map((c) => ({ containerId: c.id, running: c.state.Running }));
  }
}
