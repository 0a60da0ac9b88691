/**
 * Daemon start: the records and what the runtimes hold are made to agree again, whatever a crash
 * (of berthd or of the host) left behind, as containerd and Podman do. Every record is checked
 * against every runtime's own list:
 *   - a runtime container no record owns is deleted (a create, or an `rm -f`, cut short);
 *   - a record that is not running whose container the runtime still holds (berthd died between
 *     the runtime's create and the saved "running") has it deleted and stays as recorded;
 *   - a running record: its exit, if one was recorded meanwhile, arrives through the exit watch;
 *     one the runtime no longer runs (or never started) and whose exit was never recorded is
 *     marked exited (255), and its run is torn down;
 * and whatever a container no record owns left (a layer, a bundle, monitor files, cgroups) is
 * released through the life cycle's one teardown path.
 */
import type { Logger } from '../../common/logger.js';
import type { ContainerRuntime, RuntimeSet, RuntimeState } from '../../runtime/container-runtime.js';
import type { LayerStore } from '../../storage/layer-store.js';
import type { ContainerLifecycle } from './lifecycle.js';
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
  const held = new Map<string, { runtime: ContainerRuntime; state: RuntimeState }>();
  for (const runtime of runtimes.all()) {
    const listed = await runtime.list().catch((err) => {
      logger.warn('listing runtime containers', { runtime: runtime.name, err });
      return [];
    });
    for (const { id, state } of listed) held.set(id, { runtime, state });
  }
  const deletions: Array<Promise<void>> = [];
  for (const [id, { runtime }] of held) {
    const record = store.get(id);
    if (!record) {
      logger.warn('runtime container without a record', { id, runtime: runtime.name });
      deletions.push(lifecycle.releaseOrphan(id, runtime));
    } else if (!record.state.Running) {
      logger.warn('runtime container of a container that is not running', { id, runtime: runtime.name });
      deletions.push(lifecycle.releaseRun(record));
    }
  }
  for (const record of store.all()) {
    if (!record.state.Running) continue;
    const live = held.get(record.id);
    // Still running (or paused): its rootfs lives on in its own mount namespace. A runtime
    // container still 'created' was never started (a record saved running before its start).
    if (live && (live.state.status === 'running' || live.state.status === 'paused')) continue;
    if (await runtimes.pendingExit(record.id)) continue; // the exit watch reports it
    const finishedAt = new Date();
    void lifecycle.onExit({ id: record.id, code: 255, finishedAt, oomKilled: false }, VANISHED);
  }
  await Promise.all(deletions);
  // Layers of removals cut short: in the background (the daemon serves meanwhile; close waits).
  for (const id of context.layers.containerLayerIds()) {
    if (!store.get(id) && !held.has(id)) void lifecycle.releaseOrphan(id);
  }
}
