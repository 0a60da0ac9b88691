/**
 * The container life cycle: start, stop, kill, restart, pause, exits, removal. Every change of a
 * container's state runs as a job of its serial executor, so that concurrent requests and the
 * runtime's exit reports are applied one at a time, in order (moby holds a per-container lock for
 * the same reason). Waiting for an exit never happens inside a job: the exit is itself a job.
 *
 * One teardown path: after a run (ended, failed or removed) the runtime deletes its state,
 * bundle, monitor files and cgroups; a removed container's layer goes after that.
 */
import { BerthError, conflict, isKind, notFound, notModified } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { settlesWithin } from '../../common/long-timer.js';
import type { ContainerRuntime, Exit, RuntimeSet } from '../../runtime/container-runtime.js';
import type { LayerStore } from '../../storage/layer-store.js';
import type { ContainerAction, EventBus } from '../events/event-bus.js';
import type { RunWatcher, StopOptions, WaitCondition, WaitResult } from './lifecycle-types.js';
import type { ContainerRecord } from './model.js';
import type { ContainerVolumes } from './mount-plan.js';
import { buildRunSpec, type RunSpecHost } from './run-spec.js';
import type { ContainerNetworking } from './networking.js';
import { RunNotifier } from './run-notifier.js';
import { RestartManager } from './restart-manager.js';
import { SerialExecutor } from './serial-executor.js';
import { hasOwnPidNamespace } from './namespace-modes.js';
import { parseSignal } from './signals.js';
import {
  hasLiveRun,
  isGoing,
  markDead,
  markExited,
  markPaused,
  markRemoving,
  markRestartEnded,
  markRestarting,
  markRunning,
  markStartFailed,
  markUnpaused,
} from './state-machine.js';
import type { ContainerStore } from './store.js';
import type { ContainerStreams } from './streams.js';

export interface LifecycleOptions {
  store: ContainerStore;
  layers: LayerStore;
  runtimes: RuntimeSet;
  events: EventBus;
  streams: ContainerStreams;
  notifier: RunNotifier;
  logger: Logger;
  /** What the daemon adds to every container's spec (the init binary). */
  runSpecHost?: RunSpecHost;
  /** Sets up and undoes each run's network. */
  networking?: ContainerNetworking;
  /** Volumes, binds and tmpfs mounts; none in tests of the life cycle alone. */
  volumes?: ContainerVolumes;
  /** Follows runs (the health checks); none in tests of the life cycle alone. */
  watcher?: RunWatcher;
  /** How often an exit that could not be saved (a full disk) is tried again; 5 s. */
  saveRetryMs?: number;
}

const DEFAULT_STOP_TIMEOUT_S = 10;
/** How long a SIGKILL may take to show as an exit before the runtime is asked (moby waits 10 s at most). */
const KILL_EXIT_GRACE_MS = 5000;
const SAVE_RETRY_MS = 5000;

const SIGKILL = 9;

interface Teardown {
  unmount: boolean;
  removeLayer: boolean;
  /**
   * No process of the run is left (its exit was recorded and it had a PID namespace of its own):
   * the mounts and the layer then go while the runtime deletes its state, not after.
   */
  processesGone?: boolean;
}

export function notRunning(id: string): BerthError {
  return conflict(`Container ${id} is not running`);
}

/** Moby's 409 for what needs a live run (pause, exec, attach) while the container waits to restart. */
export function isRestarting(id: string): BerthError {
  return conflict(`Container ${id} is restarting, wait until the container is running`);
}

/** Docker's event actions for containers, with those of the health checks (`health_status: healthy`, the probe's exec). */
export type ContainerEventAction = ContainerAction | `${'health_status' | 'exec_create' | 'exec_start'}: ${string}` | 'exec_die';

export class ContainerLifecycle {
  private readonly executor = new SerialExecutor();
  /** Exits recorded in memory whose save failed; saved (and acknowledged) when the disk allows. */
  private readonly unsaved = new Map<string, ContainerRecord>();
  private readonly restarts = new RestartManager();
  /** Containers under `docker restart`: their exit does not auto-remove them (moby's HasBeenManuallyRestarted). */
  private readonly manualRestarts = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: LifecycleOptions) {}

  private get store(): ContainerStore {
    return this.options.store;
  }

  runtimeOf(record: ContainerRecord): ContainerRuntime {
    return this.options.runtimes.get(record.hostConfig.Runtime);
  }

  /** Runs `job` as the container's next state change. */
  exclusive<T>(record: ContainerRecord, job: () => Promise<T>): Promise<T> {
    return this.executor.run(record.id, async () => {
      if (this.store.get(record.id) !== record) throw notFound(`No such container: ${record.id}`);
      return job();
    });
  }

  /** Resolves once the jobs queued for a container so far (a teardown on its way) have run. */
  settled(id: string): Promise<void> {
    return this.executor.run(id, async () => {});
  }

  /** Docker's event for a container: its labels, image and name, and the action's details. */
  publish(action: ContainerEventAction, record: ContainerRecord, details: Record<string, string> = {}): void {
    this.options.events.publish('container', action, record.id, {
      ...record.config.Labels,
      image: record.config.Image,
      name: record.name.slice(1),
      ...details,
    });
  }

  /** A start by hand (also at daemon start, as moby): the restart count and a manual stop are forgotten. */
  start(record: ContainerRecord): Promise<void> {
    return this.exclusive(record, async () => {
      if (record.state.Running) throw notModified();
      if (isGoing(record.state)) throw conflict(`cannot start a container that is being removed: ${record.id}`);
      this.restarts.reset(record.id);
      record.restartCount = 0;
      record.manuallyStopped = false;
      await this.run(record);
    });
  }

  /** The restart a policy asked for, as the container's next job; one canceled meanwhile ends as exited. */
  private restartJob(record: ContainerRecord): Promise<void> {
    return this.executor.run(record.id, async () => {
      if (this.store.get(record.id) !== record || !record.state.Restarting) return;
      if (this.restarts.isCanceled(record.id)) {
        await this.endRestart(record);
        return;
      }
      await this.run(record).catch((err) => this.options.logger.warn('restarting a container', { id: record.id, err }));
    });
  }

  /** A container recorded as waiting to restart when the daemon stopped: it gets the restart it was owed. */
  resumeRestart(record: ContainerRecord): Promise<void> {
    return this.restartJob(record);
  }

  /** A run found alive at daemon start: its health checks start again. */
  adopt(record: ContainerRecord): void {
    if (hasLiveRun(record.state)) {
      this.options.volumes?.adopt(record).catch((err) => this.options.logger.warn('adopting the volume mounts of a run', { id: record.id, err }));
    }
    if (hasLiveRun(record.state) && !record.state.Paused) this.options.watcher?.watch(record, { fresh: true });
  }

  /** A restart that will not happen: the container is exited as its last run ended (inside a job). */
  private async endRestart(record: ContainerRecord, error?: string): Promise<void> {
    markRestartEnded(record.state, error);
    await this.store.save(record).catch((err) => this.options.logger.warn('saving a restart that ended', { id: record.id, err }));
    this.options.notifier.runEnded(record.id, record.state.ExitCode);
  }

  /** A user stopped or killed the container (moby's ExitOnNext): no more restarts; one waiting to restart is exited now. */
  private async cancelRestarts(record: ContainerRecord): Promise<void> {
    this.restarts.cancel(record.id);
    await this.executor.run(record.id, async () => {
      if (this.store.get(record.id) === record && record.state.Restarting) await this.endRestart(record);
    });
  }

  /** Remembers a stop by hand on the record (as a job: saves never overtake one another). */
  private async markManuallyStopped(record: ContainerRecord): Promise<void> {
    if (record.manuallyStopped) return;
    record.manuallyStopped = true;
    await this.executor.run(record.id, async () => {
      if (this.store.get(record.id) !== record) return;
      await this.store.save(record, { durable: false }).catch((err) => this.options.logger.warn('saving a manual stop', { id: record.id, err }));
    });
  }

  /** Mount, spec, runtime create, attach, runtime start; nothing else on this path (it sets `docker run`'s latency). */
  private async run(record: ContainerRecord): Promise<void> {
    const { id } = record;
    const runtime = this.runtimeOf(record);
    let mounted = false;
    try {
      // The network needs nothing of the mounts: it is set up meanwhile. A failed start's
      // teardown undoes it after the attach has ended (one job at a time per container there).
      const attaching = this.options.networking?.attach(record);
      attaching?.catch(() => {}); // awaited below, unless a mount fails first
      const rootfs = await this.options.layers.mountContainerLayer(id);
      mounted = true;
      const given = await this.options.volumes?.mount(record, rootfs);
      const network = await attaching;
      const spec = await buildRunSpec(record, rootfs, this.options.runSpecHost, given, network);
      const { pid } = await runtime.create({
        id,
        name: record.name.slice(1),
        spec,
        logPath: this.options.streams.logPathOf(record),
        tty: record.config.Tty,
        stdin: record.config.OpenStdin,
      });
      const [rows, cols] = record.hostConfig.ConsoleSize;
      if (record.config.Tty && rows > 0 && cols > 0) await runtime.resize(id, rows, cols);
      await this.options.streams.beforeStart(record, runtime);
      await runtime.start(id);
      // Its exit, however soon, is a job queued behind this one. A crash before this save
      // leaves a record that is not running and a runtime container, which reconciliation
      // deletes; the start never completed.
      markRunning(record.state, pid);
      await this.store.save(record, { durable: false });
    } catch (err) {
      await this.failedStart(record, runtime, err, mounted);
      throw err;
    }
    this.publish('start', record);
    this.options.watcher?.watch(record, { fresh: true });
  }

  private async failedStart(record: ContainerRecord, runtime: ContainerRuntime, err: unknown, mounted: boolean): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.options.streams.startFailed(record.id);
    await this.teardown(record.id, runtime, { unmount: mounted, removeLayer: false });
    if (record.state.Restarting) {
      // As moby: a restart that fails to start ends the restarts, with the last run's exit.
      await this.endRestart(record, message);
      return;
    }
    const exitCode = err instanceof BerthError && err.exitCode !== undefined ? err.exitCode : 128;
    markStartFailed(record.state, exitCode, message);
    await this.store.save(record).catch((saveErr) => this.options.logger.warn('saving a failed start', { id: record.id, err: saveErr }));
    this.options.notifier.runEnded(record.id, exitCode);
    if (record.hostConfig.AutoRemove) await this.deleteRecord(record, true);
  }

  /** An exit the runtime reported (also those that happened while berthd was down). */
  onExit(exit: Exit, error = ''): Promise<void> {
    const record = this.store.get(exit.id);
    if (!record) {
      // A container removed while its exit was on its way, or one no record owns: nothing to
      // record, only its leftovers to release.
      return this.executor.run(exit.id, async () => {
        await this.options.runtimes.acknowledgeExit(exit.id).catch(() => {});
      });
    }
    return this.executor.run(exit.id, () => this.recordExit(record, exit, error));
  }

  private async recordExit(record: ContainerRecord, exit: Exit, error: string): Promise<void> {
    const { id } = record;
    if (this.store.get(id) !== record || !hasLiveRun(record.state)) {
      // A leftover of a run that already ended (a failed start, or a kill recorded by us).
      await this.options.runtimes.acknowledgeExit(id).catch(() => {});
      return;
    }
    this.options.watcher?.unwatch(id);
    const ranForMs = Math.max(0, exit.finishedAt.getTime() - Date.parse(record.state.StartedAt));
    const restartInMs = this.restarts.nextDelay(id, {
      policy: record.hostConfig.RestartPolicy,
      exitCode: exit.code,
      restartCount: record.restartCount,
      manuallyStopped: record.manuallyStopped ?? false,
      ranForMs,
    });
    if (restartInMs === undefined) {
      markExited(record.state, { ...exit, error });
    } else {
      record.restartCount++;
      markRestarting(record.state, { ...exit, error });
    }
    this.options.streams.runEnded(id);
    const autoRemove = record.hostConfig.AutoRemove && restartInMs === undefined && !this.manualRestarts.has(id);
    if (exit.oomKilled) this.publish('oom', record);
    const died = () => {
      this.options.notifier.runEnded(id, exit.code);
      this.publish('die', record, { exitCode: String(exit.code), execDuration: String(Math.floor(ranForMs / 1000)) });
    };
    if (autoRemove) {
      // The exit is not saved in a record about to be deleted: the runtime's exit record goes
      // only after the deletion, so a crash before it finds the exit again at start (and removes).
      died();
      await this.deleteRecord(record, true, { processesGone: hasOwnPidNamespace(record) });
      await this.options.runtimes.acknowledgeExit(id).catch((err) => this.options.logger.warn('acknowledging an exit', { id, err }));
      return;
    }
    await this.saveExit(record, { durable: true });
    died();
    // The teardown is queued before the restart, which therefore finds nothing of the last run.
    this.inBackground(record, { unmount: true, removeLayer: false });
    if (restartInMs !== undefined) this.restarts.schedule(id, restartInMs, () => void this.restartJob(record));
  }

  /**
   * Saves an exit; only then may the runtime's exit record go (a crash before keeps it to read
   * again). A failed save (a full disk) leaves the exit in memory: waiters are answered and the
   * run torn down all the same, and the save is retried until it succeeds.
   */
  private async saveExit(record: ContainerRecord, options: { durable: boolean }): Promise<void> {
    try {
      await this.store.save(record, options);
    } catch (err) {
      this.options.logger.error('saving a container exit; will retry', { id: record.id, err });
      this.unsaved.set(record.id, record);
      this.scheduleSaveRetry();
      return;
    }
    this.unsaved.delete(record.id);
    await this.options.runtimes.acknowledgeExit(record.id).catch((err) => this.options.logger.warn('acknowledging an exit', { id: record.id, err }));
  }

  private scheduleSaveRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      for (const record of this.unsaved.values()) {
        this.unsaved.delete(record.id);
        if (this.store.get(record.id) !== record) continue;
        void this.executor.run(record.id, () => this.saveExit(record, { durable: true }));
      }
    }, this.options.saveRetryMs ?? SAVE_RETRY_MS);
  }

  /** Releases a run's runtime state (and a removed container's layer) as the container's next job; nobody waits. */
  private inBackground(record: ContainerRecord, what: Teardown): void {
    void this.executor.run(record.id, () => this.teardown(record.id, this.runtimeOf(record), what));
  }

  /** A run the runtime still holds for a container that is not running (a start cut short by a crash). */
  releaseRun(record: ContainerRecord): Promise<void> {
    return this.executor.run(record.id, () => this.teardown(record.id, this.runtimeOf(record), { unmount: true, removeLayer: false }));
  }

  /** The layer of a container no record owns (its runtime side is swept by the runtime set), as that id's next job. */
  releaseOrphanLayer(id: string): Promise<void> {
    return this.executor.run(id, () => this.teardown(id, undefined, { unmount: true, removeLayer: true }));
  }

  /**
   * The one teardown path: runtime state, bundle, monitor files and cgroups; then the rootfs and,
   * for a removed container, its layer. The layer goes last, so that one left by a crash still
   * marks the rest for the sweep at the next start.
   */
  private async teardown(id: string, runtime: ContainerRuntime | undefined, what: Teardown): Promise<void> {
    const log = (step: string) => (err: unknown) => this.options.logger.warn(step, { id, err });
    const runtimeSide = async () => {
      await runtime?.delete(id, { force: true }).catch(log('deleting runtime state'));
      // After the runtime: the namespace must outlive the container's processes.
      await this.options.networking?.detach(id).catch(log('undoing the network'));
    };
    const filesSide = async () => {
      await this.options.volumes?.unmount(id).catch(log('unmounting volumes'));
      if (what.unmount || what.removeLayer) await this.options.layers.unmountContainerLayer(id).catch(log('unmounting rootfs'));
      if (what.removeLayer) await this.options.layers.removeContainerLayer(id).catch(log('removing the layer of a removed container'));
    };
    // While a process may live on, the runtime (which kills what is left) goes first.
    if (what.processesGone) await Promise.all([runtimeSide(), filesSide()]);
    else await runtimeSide().then(filesSide);
  }

  /** SIGKILL, and the exit it causes, a few seconds at most; a container the runtime no longer runs is recorded as killed. */
  private async killAndAwaitExit(record: ContainerRecord): Promise<void> {
    if (!record.state.Running) return;
    if (record.state.Restarting) {
      await this.markManuallyStopped(record);
      await this.cancelRestarts(record);
      // A restart already under way got there first: that run is killed as any other.
      if (!hasLiveRun(record.state)) return;
    }
    const exited = this.options.notifier.nextRunEnd(record.id);
    const runtime = this.runtimeOf(record);
    await this.signal(record, SIGKILL).catch(() => {});
    if (await settlesWithin(exited, KILL_EXIT_GRACE_MS)) return;
    const state = await runtime.state(record.id).catch(() => undefined);
    if (!state || state.status === 'stopped') {
      const exit = { id: record.id, code: 128 + SIGKILL, finishedAt: new Date(), oomKilled: false };
      await this.executor.run(record.id, () => this.recordExit(record, exit, 'the container was killed; its monitor did not report the exit'));
      return;
    }
    await exited;
  }

  /**
   * Sends a signal. A paused container is then resumed when the signal is meant to end it
   * (SIGKILL, or its stop signal; any signal when it has none), as dockerd does: a frozen task
   * (cgroup v1 freezer) takes no signal, not even SIGKILL, until it is thawed.
   */
  private async signal(record: ContainerRecord, signal: number): Promise<void> {
    const ends = this.isEnding(record, signal);
    // Before the signal, so that the exit it causes is not followed by a restart.
    await this.markManuallyStopped(record);
    if (ends) this.restarts.cancel(record.id);
    await this.runtimeOf(record).kill(record.id, signal);
    this.publish('kill', record, { signal: String(signal) });
    if (ends && record.state.Paused) await this.thaw(record);
  }

  /** Whether a signal is meant to end the container: SIGKILL, or its stop signal (any signal when it has none), as moby. */
  private isEnding(record: ContainerRecord, signal: number): boolean {
    const stopSignal = record.config.StopSignal ? parseSignal(record.config.StopSignal) : undefined;
    return signal === SIGKILL || stopSignal === undefined || signal === stopSignal;
  }

  /**
   * A signal for a container waiting to restart reaches no process: as moby, it only counts as a
   * manual stop, and one meant to end the container cancels the restart (no kill event).
   */
  private async signalRestarting(record: ContainerRecord, signal: number): Promise<void> {
    await this.markManuallyStopped(record);
    if (this.isEnding(record, signal)) await this.cancelRestarts(record);
  }

  /** Resumes a paused container so that a signal sent to it lands; recorded as an unpause (moby's resumed event). */
  private thaw(record: ContainerRecord): Promise<void> {
    return this.executor.run(record.id, async () => {
      if (this.store.get(record.id) !== record || !record.state.Paused) return;
      try {
        await this.runtimeOf(record).resume(record.id);
      } catch (err) {
        // Gone meanwhile: its exit is on its way.
        this.options.logger.warn('resuming a paused container to end it', { id: record.id, err });
        return;
      }
      markUnpaused(record.state);
      await this.store.save(record, { durable: false });
      this.publish('unpause', record);
    });
  }

  /** Sends a signal; after SIGKILL answers once the container is dead (as dockerd, issue 12 item 13). */
  async kill(record: ContainerRecord, signal: number): Promise<void> {
    if (!record.state.Running) throw notRunning(record.id);
    if (record.state.Restarting) {
      await this.signalRestarting(record, signal);
      // A restart already under way got there first: that run gets the signal as any other.
      if (!hasLiveRun(record.state)) return;
    }
    if (signal === SIGKILL) {
      await this.killAndAwaitExit(record);
      return;
    }
    try {
      await this.signal(record, signal);
    } catch (err) {
      if (isKind(err, 'not-found')) throw notRunning(record.id);
      throw err;
    }
  }

  /** The stop signal, then SIGKILL after the timeout (any length: a long timer, issue 12 item 6); 304 if not running. */
  async stop(record: ContainerRecord, options: StopOptions): Promise<void> {
    if (!record.state.Running) throw notModified();
    if (record.state.Restarting) {
      await this.signalRestarting(record, options.signal ?? parseSignal(record.config.StopSignal || 'SIGTERM'));
      // A restart already under way got there first: that run is stopped as any other.
      if (!hasLiveRun(record.state)) {
        this.publish('stop', record);
        return;
      }
    }
    const timeoutS = options.timeoutSeconds ?? record.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT_S;
    const signal = options.signal ?? parseSignal(record.config.StopSignal || 'SIGTERM');
    const exited = this.options.notifier.nextRunEnd(record.id);
    await this.signal(record, signal).catch(() => {});
    if (timeoutS < 0) await exited;
    else if (!(await settlesWithin(exited, timeoutS * 1000))) await this.killAndAwaitExit(record);
    this.publish('stop', record);
  }

  async restart(record: ContainerRecord, options: StopOptions): Promise<void> {
    this.manualRestarts.add(record.id);
    try {
      await this.stop(record, options).catch((err) => {
        if (!isKind(err, 'not-modified')) throw err;
      });
    } finally {
      this.manualRestarts.delete(record.id);
    }
    await this.start(record).catch((err) => {
      // Started meanwhile by someone else: restarted all the same.
      if (!isKind(err, 'not-modified')) throw err;
    });
    this.publish('restart', record);
  }

  pause(record: ContainerRecord): Promise<void> {
    return this.exclusive(record, async () => {
      if (!record.state.Running) throw notRunning(record.id);
      if (record.state.Paused) throw conflict(`Container ${record.id} is already paused`);
      if (record.state.Restarting) throw isRestarting(record.id);
      await this.runtimeOf(record).pause(record.id);
      this.options.watcher?.unwatch(record.id);
      markPaused(record.state);
      await this.store.save(record, { durable: false });
      this.publish('pause', record);
    });
  }

  unpause(record: ContainerRecord): Promise<void> {
    return this.exclusive(record, async () => {
      if (!record.state.Paused) throw conflict(`Container ${record.id} is not paused`);
      await this.runtimeOf(record).resume(record.id);
      markUnpaused(record.state);
      await this.store.save(record, { durable: false });
      this.publish('unpause', record);
      this.options.watcher?.watch(record, { fresh: false });
    });
  }

  /**
   * `docker rm`: a running container only with force (killed first, outside any job, since its
   * exit is a job). A container started again between the kill and the removal is killed again.
   */
  async remove(record: ContainerRecord, options: { force: boolean; volumes?: boolean }): Promise<void> {
    for (;;) {
      if (record.state.Running) {
        if (!options.force) {
          // dockerd's words, which name the state (running, paused or restarting).
          const procedure = record.state.Paused ? 'Unpause and then stop' : 'Stop';
          throw conflict(
            `You cannot remove a ${record.state.Status} container ${record.id}. ${procedure} the container before attempting removal or force remove`,
          );
        }
        await this.killAndAwaitExit(record);
      }
      const removal = await this.executor.run(record.id, async () => {
        if (this.store.get(record.id) !== record) return 'removed'; // removed meanwhile (AutoRemove)
        if (record.state.Running) return 'running';
        return this.deleteRecord(record, options.volumes ?? false);
      });
      if (removal === 'running') continue;
      // Answered once everything is gone, as dockerd: an `rmi` right after finds no layer left.
      if (removal !== 'removed') await removal.torndown;
      return;
    }
  }

  /**
   * Deletes the record (inside a job); the run's runtime state (whatever the record said: a crash
   * may have left a run behind), the rootfs and the layer go after, as the container's next job,
   * which `torndown` settles with (never rejects).
   */
  private async deleteRecord(record: ContainerRecord, removeVolumes: boolean, run: Pick<Teardown, 'processesGone'> = {}): Promise<{ torndown: Promise<void> }> {
    if (this.store.get(record.id) !== record) return { torndown: Promise.resolve() };
    markRemoving(record.state);
    this.options.streams.removed(record.id);
    try {
      await this.store.delete(record);
    } catch (err) {
      markDead(record.state);
      throw err;
    }
    this.unsaved.delete(record.id);
    this.restarts.forget(record.id);
    this.options.watcher?.unwatch(record.id);
    this.publish('destroy', record);
    const torndown = this.executor.run(record.id, async () => {
      await Promise.all([
        this.teardown(record.id, this.runtimeOf(record), { unmount: true, removeLayer: true, ...run }),
        this.store.removeDir(record.id).catch((err) => this.options.logger.warn('removing the folder of a removed container', { id: record.id, err })),
      ]);
      await this.options.volumes?.release(record.id, record.mountPoints ?? [], removeVolumes).catch((err) => this.options.logger.warn('releasing volumes', { id: record.id, err }));
      // Waits for the removal end once it is complete (moby's): a `run --rm` that returns leaves no mount and no volume reference.
      this.options.notifier.removed(record.id, record.state.ExitCode);
    });
    return { torndown };
  }

  /** Resolves once the condition holds; abort detaches the waiter. */
  wait(record: ContainerRecord, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    if (condition === 'not-running' && !record.state.Running) return Promise.resolve({ exitCode: record.state.ExitCode });
    const { notifier } = this.options;
    return new Promise((resolve) => {
      const onAbort = () => {
        stop();
        resolve({ canceled: true });
      };
      const done = (exitCode: number) => {
        signal?.removeEventListener('abort', onAbort);
        resolve({ exitCode });
      };
      // Removal ends every wait: a container removed without running again never exits again.
      const stop = condition === 'removed' ? notifier.onRemoved(record.id, done) : notifier.onRunEnd(record.id, done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Waits for the state changes under way (daemon shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.restarts.close();
    await this.executor.drain();
  }
}
