/**
 * The container use cases, as the API calls them: resolving names, creating and listing records,
 * and handing each operation to the module that owns it (lifecycle.ts for state changes,
 * streams.ts for attach and logs, reconciler.ts at daemon start).
 */
import type { Change } from '../../storage/driver.js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, invalidParameter, notFound, wrap } from '../../common/errors.js';
import { newId } from '../../common/ids.js';
import type { Logger } from '../../common/logger.js';
import type { ContainerRuntime, RuntimeSet } from '../../runtime/container-runtime.js';
import type { LayerStore } from '../../storage/layer-store.js';
import type { ContainerAction, EventBus } from '../events/event-bus.js';
import type { ImageStore } from '../images/image-store.js';
import { checkImageName } from '../images/image-service.js';
import type { AttachClient, AttachHub } from './attach-hub.js';
import { checkPlatform, completeHostConfig, mergeContainerConfig } from './create-config.js';
import { writeEtcFiles } from './etc-files.js';
import { HealthMonitor } from './health-monitor.js';
import { ContainerLifecycle, notRunning } from './lifecycle.js';
import type { ContainerSizes, StopOptions, WaitCondition, WaitResult } from './lifecycle-types.js';
import type { LogEntry, LogReadOptions } from './log-reader.js';
import { initialState, type ContainerRecord } from './model.js';
import { generateName, normaliseName } from './names.js';
import { checkHostnameMode } from './namespace-modes.js';
import { reconcile } from './reconciler.js';
import { RunNotifier } from './run-notifier.js';
import type { ContainerSpec } from './spec.js';
import { isGoing } from './state-machine.js';
import type { ContainerStore } from './store.js';
import { pruneMatcher, selectContainers, type ListOptions } from './container-filters.js';
import type { Filters } from '../filters.js';
import { ContainerStreams } from './streams.js';
import type { RunSpecHost } from './run-spec.js';
import type { ContainerNetworking } from './networking.js';
import type { ContainerVolumes } from './mount-plan.js';

export interface ContainerServiceOptions {
  store: ContainerStore;
  images: ImageStore;
  layers: LayerStore;
  runtimes: RuntimeSet;
  events: EventBus;
  logger: Logger;
  /** What the daemon adds to every container's spec (the init binary). */
  runSpecHost?: RunSpecHost;
  /** Sets up each run's network; without it containers get a private loopback-only namespace. */
  networking?: ContainerNetworking;
  /** Volumes, binds and tmpfs mounts (none in tests of containers alone). */
  volumes?: ContainerVolumes;
}

export class ContainerService {
  private readonly notifier = new RunNotifier();
  private readonly streams = new ContainerStreams(this.notifier, (message, fields) => this.options.logger.warn(message, fields));
  private readonly lifecycle: ContainerLifecycle;
  private readonly health: HealthMonitor;
  private readonly store: ContainerStore;

  constructor(private readonly options: ContainerServiceOptions) {
    this.store = options.store;
    this.health = new HealthMonitor({
      runtimeOf: (record) => this.lifecycle.runtimeOf(record),
      publish: (action, record, details) => this.lifecycle.publish(action, record, details),
      logger: options.logger,
    });
    this.lifecycle = new ContainerLifecycle({ ...options, streams: this.streams, notifier: this.notifier, watcher: this.health });
  }

  /** For the services beside this one (update): their state changes run through this life cycle. */
  lifecycleForServices(): ContainerLifecycle {
    return this.lifecycle;
  }

  /** Starts taking exits and reconciles records with what the runtimes hold. */
  async start(): Promise<void> {
    const { runtimes, logger } = this.options;
    for (const record of this.store.all()) this.options.volumes?.track(record);
    await runtimes.watchExits((exit) => {
      this.lifecycle.onExit(exit).catch((err) => logger.error('handling container exit', { id: exit.id, err }));
    });
    await reconcile({ ...this.options, lifecycle: this.lifecycle });
    for (const record of this.store.all()) if (record.state.Running) this.streams.resume(record, this.lifecycle.runtimeOf(record));
  }

  async close(): Promise<void> {
    this.options.runtimes.close();
    this.streams.close();
    this.health.close();
    await this.lifecycle.close();
  }

  /** Every container, newest first; with options, those `docker ps` would show. */
  list(options?: ListOptions): ContainerRecord[] {
    // Newest first. `created` is always toISOString()'s fixed format, so code-unit order is time
    // order (and several times cheaper than localeCompare over a few hundred containers).
    const all = this.store.all().sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
    if (!options) return all;
    return selectContainers(all, options, { imageIdOf: (ref) => this.options.images.find(ref)?.id, find: (idOrName) => this.store.find(idOrName) });
  }

  /**
   * Whether the container's image reference (Config.Image) still names the image it was made
   * from; once retagged or removed (`rmi -f`), `docker ps` shows the image id instead (moby).
   */
  imageReferenceHolds(record: ContainerRecord): boolean {
    return record.config.Image === record.image || this.options.images.find(record.config.Image)?.id === record.image;
  }

  inspect(idOrName: string): ContainerRecord {
    return this.store.resolve(idOrName);
  }

  /** `docker diff`: what the container changed in its image's files, running or not. */
  changes(idOrName: string): Promise<Change[]> {
    return this.options.layers.containerLayerChanges(this.store.resolve(idOrName).id);
  }

  graphDriverData(record: ContainerRecord): Promise<Record<string, string>> {
    return this.options.layers.containerLayerMetadata(record.id);
  }

  async create(spec: ContainerSpec, requestedName?: string): Promise<{ record: ContainerRecord; warnings: string[] }> {
    if (spec.config.Image === '') throw invalidParameter('config cannot be empty in order to create a container');
    const { images, layers, runtimes } = this.options;
    const name = requestedName ? normaliseName(requestedName) : this.freshName();
    checkImageName(spec.config.Image); // `BUSYBOX` is a 400 "invalid reference format", not a 404
    checkPlatform(spec.platform);
    const image = images.resolve(spec.config.Image);
    checkHostnameMode(spec.config.Hostname, spec.hostConfig.other);
    const { hostConfig, warnings } = completeHostConfig(spec.hostConfig, runtimes.defaultName, runtimes.cgroupFeatures());
    runtimes.get(hostConfig.Runtime); // unknown runtime → 400 before anything is made
    const config = mergeContainerConfig(spec.config, image.config.config ?? {});
    const networks = this.options.networking?.plan(hostConfig.NetworkMode, spec.endpoints, { hostConfig, config }, spec.config.MacAddress);
    const id = newId();
    config.Hostname ||= id.slice(0, 12);
    this.store.reserveName(name, id);
    // Mount errors are the request's own (moby's messages, not wrapped); volumes made are released below on failure.
    const mountPoints = await this.options.volumes?.prepare(id, hostConfig, Object.keys(config.Volumes ?? {})).catch((err: unknown) => {
      this.store.releaseName(name, id);
      throw err;
    });
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
      driver: layers.driverName,
      restartCount: 0,
      ...(networks && { networks }),
      logPath: join(dir, 'ctr.log'),
      hostnamePath: join(dir, 'hostname'),
      hostsPath: join(dir, 'hosts'),
      resolvConfPath: join(dir, 'resolv.conf'),
      ...(mountPoints && { mountPoints }),
    };
    try {
      await this.store.makeDir(id);
      await layers.createContainerLayer(id, image.chainIds.at(-1) ?? null);
      await writeEtcFiles({ hostname: record.hostnamePath, hosts: record.hostsPath, resolvConf: record.resolvConfPath }, config.Hostname);
      await this.store.save(record);
    } catch (err) {
      this.store.releaseName(name, id);
      await this.options.volumes?.release(id, record.mountPoints ?? [], true).catch(() => {});
      await layers.removeContainerLayer(id).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      throw wrap(err, 'creating container');
    }
    this.store.add(record);
    this.lifecycle.publish('create', record);
    return { record, warnings };
  }

  private freshName(): string {
    for (let attempt = 0; ; attempt++) {
      const name = `/${generateName(attempt)}`;
      if (!this.store.hasName(name)) return name;
    }
  }

  startContainer(idOrName: string): Promise<void> {
    return this.lifecycle.start(this.store.resolve(idOrName));
  }

  stop(idOrName: string, options: StopOptions = {}): Promise<void> {
    return this.lifecycle.stop(this.store.resolve(idOrName), options);
  }

  restart(idOrName: string, options: StopOptions = {}): Promise<void> {
    return this.lifecycle.restart(this.store.resolve(idOrName), options);
  }

  kill(idOrName: string, signal: number): Promise<void> {
    return this.lifecycle.kill(this.store.resolve(idOrName), signal);
  }

  pause(idOrName: string): Promise<void> {
    return this.lifecycle.pause(this.store.resolve(idOrName));
  }

  unpause(idOrName: string): Promise<void> {
    return this.lifecycle.unpause(this.store.resolve(idOrName));
  }

  remove(idOrName: string, options: { force: boolean; volumes?: boolean }): Promise<void> {
    return this.lifecycle.remove(this.store.resolve(idOrName), options);
  }

  wait(idOrName: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    return this.lifecycle.wait(this.store.resolve(idOrName), condition, signal);
  }

  /** `docker rename`: the new name is taken first, so a clash leaves the old one in place. */
  async rename(idOrName: string, newName: string): Promise<void> {
    const record = this.store.resolve(idOrName);
    const name = normaliseName(newName);
    await this.lifecycle.exclusive(record, async () => {
      if (name === record.name) throw invalidParameter('Renaming a container with the same name as its current name');
      if (isGoing(record.state)) throw conflict(`cannot rename container ${record.id}: it is being removed`);
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
      this.lifecycle.publish('rename', record, { oldName });
    });
  }

  sizes(record: ContainerRecord): Promise<ContainerSizes> {
    return this.options.layers.containerLayerSize(record.id);
  }

  /** `docker container prune`: removes every container that is not running; returns their ids and the bytes of their own layers. */
  async prune(filters: Filters = {}): Promise<{ removed: string[]; spaceReclaimed: number }> {
    const matches = pruneMatcher(filters);
    const removed: string[] = [];
    let spaceReclaimed = 0;
    for (const record of this.store.all()) {
      if (record.state.Running || !matches(record)) continue;
      try {
        const { sizeRw } = await this.sizes(record).catch(() => ({ sizeRw: 0 }));
        await this.lifecycle.remove(record, { force: false });
        removed.push(record.id);
        spaceReclaimed += sizeRw;
      } catch (err) {
        // As moby: one container that cannot go (started meanwhile, being removed) stops nothing.
        this.options.logger.warn('prune: container not removed', { id: record.id, err });
      }
    }
    return { removed, spaceReclaimed };
  }

  /**
   * The container an attach request names, once it may be attached to (moby's checks, made
   * before the connection is taken over so that they are ordinary HTTP errors).
   */
  attachTarget(idOrName: string): ContainerRecord {
    const record = this.store.resolve(idOrName);
    if (isGoing(record.state)) throw conflict(`cannot attach to container ${record.id}: it is being removed`);
    // moby's words for attach (not those of exec and pause).
    if (record.state.Paused) throw conflict(`container ${idOrName} is paused, unpause the container before attach`);
    if (record.state.Restarting) throw conflict(`container ${idOrName} is restarting, wait until the container is running`);
    return record;
  }

  /** Attaches a client. Output flows while the container runs (now or at its next start). */
  async attach(record: ContainerRecord, client: AttachClient): Promise<{ hub: AttachHub; detach: () => void }> {
    if (this.store.get(record.id) !== record) throw notFound(`No such container: ${record.id}`);
    const hub = this.streams.hub(record.id);
    const detach = hub.add(client);
    try {
      if (record.state.Running) await this.streams.connect(record.id, this.lifecycle.runtimeOf(record));
    } catch (err) {
      detach();
      throw err;
    }
    return { hub, detach };
  }

  /** moby's `attach` and `detach` events (detach: the client typed the detach keys). */
  publishAttach(record: ContainerRecord, action: 'attach' | 'detach'): void {
    this.lifecycle.publish(action, record);
  }

  async resize(idOrName: string, height: number, width: number): Promise<void> {
    const record = this.store.resolve(idOrName);
    if (!record.state.Running) throw notRunning(record.id);
    if (record.config.Tty) await this.lifecycle.runtimeOf(record).resize(record.id, height, width);
  }

  logs(idOrName: string, options: LogReadOptions, signal: AbortSignal): { record: ContainerRecord; entries: AsyncGenerator<LogEntry> } {
    const record = this.store.resolve(idOrName);
    return { record, entries: this.streams.logs(record, options, signal) };
  }

  /** The record of a container id, undefined once it is gone (no name lookup, no error). */
  find(id: string): ContainerRecord | undefined {
    return this.store.get(id);
  }

  /** The runtime a container runs under (for the services beside this one: exec, stats, top). */
  runtimeOf(record: ContainerRecord): ContainerRuntime {
    return this.lifecycle.runtimeOf(record);
  }

  /** Publishes a container event with Docker's attributes (labels, image, name) and `details`. */
  publish(action: ContainerAction, record: ContainerRecord, details: Record<string, string> = {}): void {
    this.lifecycle.publish(action, record, details);
  }

  /** For the services beside this one (archive-service.ts): runs `job` while no other operation of the container runs. */
  exclusive<T>(record: ContainerRecord, job: () => Promise<T>): Promise<T> {
    return this.lifecycle.exclusive(record, job);
  }

  /** Resolves once the container's queued jobs (a teardown on its way) have run; also for one just removed. */
  settled(id: string): Promise<void> {
    return this.lifecycle.settled(id);
  }

  /** Containers using an image, for `rmi` conflict checks. */
  usersOfImage(imageId: string): Array<{ containerId: string; running: boolean }> {
    return this.store
      .all()
      .filter((c) => c.image === imageId)
      .map((c) => ({ containerId: c.id, running: c.state.Running }));
  }
}
