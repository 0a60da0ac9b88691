/**
 * Daemon start: the records and what the runtimes hold are made to agree again, whatever a crash
 * (of berthd or of the host) left behind, as containerd and Podman do. Every record is checked
 * against every runtime's own list:
 *   - whatever the runtimes hold for an id no record owns (runtime state, bundle, monitor files,
 *     cgroups) is swept (a create, or an `rm -f`, cut short);
 *   - a record that is not running whose run the runtimes still hold anything of (berthd died
 *     between the runtime's create and the saved "running", or earlier, with only a bundle or a
 *     persist dir written) has it deleted and stays as recorded;
 *   - a running record: its exit, if one was recorded meanwhile, arrives through the exit watch;
 *     one the runtime no longer runs (or never started) and whose exit was never recorded is
 *     marked exited (255), and its run is torn down;
 * and container layers no record owns are removed. Then the restart policies act as at moby's
 * daemon start: a container recorded as waiting to restart gets its restart, and a stopped one
 * that was started before and whose policy says so (`always`, also after a stop by hand;
 * `unless-stopped` unless stopped by hand; `on-failure` after a failure, within its count) is
 * started; a live one has its health checks started again.
 */
import type { Logger } from '../../common/logger.js';
import type { RuntimeSet, RuntimeState } from '../../runtime/container-runtime.js';
import type { LayerStore } from '../../storage/layer-store.js';
import type { ContainerLifecycle } from './lifecycle.js';
import { ZERO_TIME, type ContainerRecord } from './model.js';
import { policyRestarts } from './restart-manager.js';
import { hasLiveRun } from './state-machine.js';
import type { ContainerStore } from './store.js';

export interface ReconcileContext {
  store: ContainerStore;
  layers: LayerStore;
  runtimes: RuntimeSet;
  lifecycle: ContainerLifecycle;
  logger: Logger;
}

const VANISHED = 'container process vanished while berthd was not running';

export async function reconcile(context: ReconcileContext): Promise<void> {
  const { store, runtimes, lifecycle, logger } = context;
  // What no record owns (runtime state, bundles, monitor files, cgroups) goes first. The sweep
  // asks about every id the runtimes hold anything for: those of records that are not running
  // have a run left (a start cut short before the runtime even listed it: a bundle, a persist
  // dir, a cgroup), released below.
  const leftovers = new Set<string>();
  const swept = await runtimes.sweep((id) => {
    const record = store.get(id);
    if (record && !hasLiveRun(record.state)) leftovers.add(id);
    return record !== undefined;
  });
  if (swept.length > 0) logger.warn('released what containers without a record left behind', { ids: swept });
  const held = new Map<string, RuntimeState>();
  for (const runtime of runtimes.all()) {
    const listed = await runtime.list().catch((err) => {
      logger.warn('listing runtime containers', { runtime: runtime.name, err });
      return [];
    });
    for (const { id, state } of listed) held.set(id, state);
  }
  for (const id of held.keys()) {
    const record = store.get(id);
    if (record && !hasLiveRun(record.state)) leftovers.add(id);
  }
  const releases: Array<Promise<void>> = [];
  for (const id of leftovers) {
    logger.warn('a run left behind by a container that is not running', { id });
    releases.push(lifecycle.releaseRun(store.get(id)!));
  }
  for (const record of store.all()) {
    if (!hasLiveRun(record.state)) continue;
    const live = held.get(record.id);
    // Still running (or paused): its rootfs lives on in its own mount namespace. A runtime
    // container still 'created' was never started (a record saved running before its start).
    if (live && (live.status === 'running' || live.status === 'paused')) {
      if (live.status === 'paused' && !record.state.Paused) {
        // Frozen by an operation of berthd's own that a crash cut short (a commit pauses the
        // container while it reads the layer): thawed, as its record says it runs. Left frozen,
        // it could not even be killed (rm -f would wait for an exit that never comes).
        logger.warn('thawing a container frozen by an operation a crash cut short', { id: record.id });
        await lifecycle.runtimeOf(record).resume(record.id).catch((err) => logger.warn('thawing a container', { id: record.id, err }));
      }
      lifecycle.adopt(record);
      continue;
    }
    if (await runtimes.pendingExit(record.id)) continue; // the exit watch reports it
    const finishedAt = new Date();
    void lifecycle.onExit({ id: record.id, code: 255, finishedAt, oomKilled: false }, VANISHED);
  }
  await Promise.all(releases);
  // Queued behind the releases above (the same container's jobs run in order); the daemon serves meanwhile.
  for (const record of store.all()) restartOwed(record, lifecycle, logger);
  // Layers of removals cut short: in the background (the daemon serves meanwhile; close waits).
  for (const id of context.layers.containerLayerIds()) {
    if (!store.get(id)) void lifecycle.releaseOrphanLayer(id);
  }
}

/** Starts a stopped container its restart policy brings back at daemon start (not awaited). */
function restartOwed(record: ContainerRecord, lifecycle: ContainerLifecycle, logger: Logger): void {
  const { state } = record;
  const log = (err: unknown) => logger.warn('restarting a container at daemon start', { id: record.id, err });
  if (state.Restarting) {
    lifecycle.resumeRestart(record).catch(log);
    return;
  }
  const startedBefore = state.StartedAt !== ZERO_TIME;
  if (state.Status !== 'exited' || !startedBefore) return;
  if (!policyRestarts(record.hostConfig.RestartPolicy, state.ExitCode, record.restartCount, record.manuallyStopped ?? false)) return;
  lifecycle.start(record).catch(log);
}
