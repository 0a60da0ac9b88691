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
 * and container layers no record owns are removed.
 */
import type { Logger } from '../../common/logger.js';
import type { RuntimeSet, RuntimeState } from '../../runtime/container-runtime.js';
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
  // What no record owns (runtime state, bundles, monitor files, cgroups) goes first. The sweep
  // asks about every id the runtimes hold anything for: those of records that are not running
  // have a run left (a start cut short before the runtime even listed it: a bundle, a persist
  // dir, a cgroup), released below.
  const leftovers = new Set<string>();
  const swept = await runtimes.sweep((id) => {
    const record = store.get(id);
    if (record && !record.state.Running) leftovers.add(id);
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
    if (store.get(id)?.state.Running === false) leftovers.add(id);
  }
  const releases: Array<Promise<void>> = [];
  for (const id of leftovers) {
    logger.warn('a run left behind by a container that is not running', { id });
    releases.push(lifecycle.releaseRun(store.get(id)!));
  }
  for (const record of store.all()) {
    if (!record.state.Running) continue;
    const live = held.get(record.id);
    // Still running (or paused): its rootfs lives on in its own mount namespace. A runtime
    // container still 'created' was never started (a record saved running before its start).
    if (live && (live.status === 'running' || live.status === 'paused')) continue;
    if (await runtimes.pendingExit(record.id)) continue; // the exit watch reports it
    const finishedAt = new Date();
    void lifecycle.onExit({ id: record.id, code: 255, finishedAt, oomKilled: false }, VANISHED);
  }
  await Promise.all(releases);
  // Layers of removals cut short: in the background (the daemon serves meanwhile; close waits).
  for (const id of context.layers.containerLayerIds()) {
    if (!store.get(id)) void lifecycle.releaseOrphanLayer(id);
  }
}
