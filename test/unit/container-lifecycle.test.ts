import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type EngineEvent } from '../../src/engine/events/event-bus.js';
import { ContainerLifecycle } from '../../src/engine/containers/lifecycle.js';
import { initialState, type ContainerRecord } from '../../src/engine/containers/model.js';
import { RunNotifier } from '../../src/engine/containers/run-notifier.js';
import { ContainerStreams } from '../../src/engine/containers/streams.js';
import { ContainerStore } from '../../src/engine/containers/store.js';
import { reconcile } from '../../src/engine/containers/reconciler.js';
import { markRemoving, markRunning } from '../../src/engine/containers/state-machine.js';
import type { LayerStore } from '../../src/storage/layer-store.js';
import type { Logger } from '../../src/common/logger.js';
import { FakeRuntimeSet, type FakeRuntime } from '../helpers/fake-runtime.js';
import { BerthError } from '../../src/common/errors.js';
import type { OciSpec } from '../../src/runtime/oci-spec.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/** Layer operations as calls (the driver suites test the real ones). */
function fakeLayers(ids: string[] = []) {
  const calls: string[] = [];
  const layers = {
    async mountContainerLayer(id: string) {
      calls.push(`mount ${id}`);
      return `/rootfs/${id}`;
    },
    async unmountContainerLayer(id: string) {
      calls.push(`unmount ${id}`);
    },
    async removeContainerLayer(id: string) {
      calls.push(`remove ${id}`);
    },
    containerLayerIds: () => ids,
  };
  return { layers: layers as unknown as LayerStore, calls };
}

let counter = 0;

describe('container life cycle on the in-memory runtime', () => {
  let root: string;
  let store: ContainerStore;
  let runtimes: FakeRuntimeSet;
  let runtime: FakeRuntime;
  let events: EngineEvent[];
  let lifecycle: ContainerLifecycle;
  let layerCalls: string[];
  let layerIds: string[];
  let layers: LayerStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-lifecycle-'));
    store = await ContainerStore.open(root);
    runtimes = new FakeRuntimeSet();
    runtime = runtimes.runtime();
    const bus = new EventBus();
    events = [];
    bus.subscribe((e) => events.push(e));
    const notifier = new RunNotifier();
    layerIds = [];
    const fake = fakeLayers(layerIds);
    layerCalls = fake.calls;
    layers = fake.layers;
    lifecycle = new ContainerLifecycle({
      store,
      layers,
      runtimes,
      events: bus,
      notifier,
      streams: new ContainerStreams(notifier, () => {}),
      logger: quiet,
      saveRetryMs: 20,
    });
    await runtimes.watchExits((exit) => void lifecycle.onExit(exit));
  });

  afterEach(async () => {
    await lifecycle.close();
    await rm(root, { recursive: true, force: true });
  });

  async function newRecord(overrides: { autoRemove?: boolean; restart?: string; retries?: number } = {}): Promise<ContainerRecord> {
    const id = (++counter).toString(16).padStart(64, 'a');
    const dir = await store.makeDir(id);
    const record: ContainerRecord = {
      id,
      name: `/c${counter}`,
      created: new Date().toISOString(),
      path: 'true',
      args: [],
      image: 'sha256:img',
      config: {
        Hostname: 'h', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
        Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: ['true'], Image: 'busybox', WorkingDir: '',
        Entrypoint: null, Labels: { team: 'a' },
      },
      hostConfig: {
        AutoRemove: overrides.autoRemove ?? false, Runtime: '', CapAdd: null, CapDrop: null, ReadonlyRootfs: false,
        ShmSize: 1, ConsoleSize: [0, 0], NetworkMode: 'none', LogConfig: { Type: 'json-file', Config: {} },
        RestartPolicy: { Name: overrides.restart ?? 'no', MaximumRetryCount: overrides.retries ?? 0 },
      },
      state: initialState(),
      driver: 'vfs',
      restartCount: 0,
      logPath: join(dir, 'ctr.log'),
      hostnamePath: join(dir, 'hostname'),
      hostsPath: join(dir, 'hosts'),
      resolvConfPath: join(dir, 'resolv.conf'),
    };
    await store.save(record);
    store.add(record);
    return record;
  }

  /** A container the runtime holds without this berthd having asked (a crash left it). */
  async function plant(id: string): Promise<void> {
    await runtime.create({ id, name: id.slice(0, 12), spec: {} as OciSpec, logPath: '', tty: false, stdin: false });
    await runtime.start(id);
  }

  const actions = (id: string) => events.filter((e) => e.actorId === id).map((e) => e.action);

  test('start runs it; a second start at the same time answers 304 and nothing runs twice', async () => {
    const record = await newRecord();
    const results = await Promise.allSettled([lifecycle.start(record), lifecycle.start(record)]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    assert.equal((results[1] as PromiseRejectedResult).reason.kind, 'not-modified');
    assert.equal(record.state.Status, 'running');
    assert.equal(runtime.callsOf('create').length, 1);
    assert.deepEqual(actions(record.id), ['start']);
  });

  test('rm during start: without force 409 once it runs; with force it is killed and removed, nothing left', async () => {
    const record = await newRecord();
    const gate = runtime.hold('start', record.id);
    const starting = lifecycle.start(record);
    await gate.reached;
    const plainRm = lifecycle.remove(record, { force: false });
    const forcedRm = lifecycle.remove(record, { force: true });
    gate.release();
    await starting;
    await assert.rejects(plainRm, /You cannot remove a running container/);
    await forcedRm;
    assert.equal(store.get(record.id), undefined);
    await lifecycle.close();
    assert.equal(runtime.containers.has(record.id), false);
    assert.ok(layerCalls.includes(`remove ${record.id}`));
    assert.deepEqual(actions(record.id), ['start', 'kill', 'die', 'destroy']);
  });

  test('an exit arriving during rm -f is recorded once and the removal completes', async () => {
    const record = await newRecord();
    await lifecycle.start(record);
    const removal = lifecycle.remove(record, { force: true });
    runtime.exit(record.id, 0);
    await removal;
    assert.equal(store.get(record.id), undefined);
    assert.equal(actions(record.id).filter((a) => a === 'die').length, 1);
    await lifecycle.close();
    assert.equal(await runtimes.pendingExit(record.id), undefined, 'the exit acknowledged');
  });

  test('kill with SIGKILL answers only once the container is dead (issue 12 item 13)', async () => {
    const record = await newRecord();
    await lifecycle.start(record);
    await lifecycle.kill(record, 9);
    assert.equal(record.state.Status, 'exited');
    assert.equal(record.state.ExitCode, 137);
    const kill = events.find((e) => e.action === 'kill' && e.actorId === record.id);
    assert.equal(kill?.attributes.signal, '9');
    const die = events.find((e) => e.action === 'die' && e.actorId === record.id);
    assert.deepEqual(
      { exitCode: die?.attributes.exitCode, name: die?.attributes.name, image: die?.attributes.image, team: die?.attributes.team },
      { exitCode: '137', name: record.name.slice(1), image: 'busybox', team: 'a' },
    );
  });

  test('an exit during stop ends the stop at once with kill, die and stop events', async () => {
    const record = await newRecord();
    await lifecycle.start(record);
    const started = Date.now();
    await lifecycle.stop(record, { timeoutSeconds: 30 });
    assert.ok(Date.now() - started < 2000);
    assert.equal(record.state.ExitCode, 143);
    assert.deepEqual(actions(record.id), ['start', 'kill', 'die', 'stop']);
  });

  test('a stop timeout beyond 2^31-1 ms waits instead of killing at once (issue 12 item 6)', async () => {
    const record = await newRecord();
    await lifecycle.start(record);
    runtime.ignoreSignal(record.id, 15);
    const stopping = lifecycle.stop(record, { timeoutSeconds: 2_147_484 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(record.state.Status, 'running');
    assert.deepEqual(runtime.callsOf('kill').map((call) => call.args[0]), [15]);
    runtime.exit(record.id, 0);
    await stopping;
    assert.equal(record.state.Status, 'exited');
  });

  test('stop during restart: both answer and the container ends up in one consistent state', async () => {
    const record = await newRecord();
    await lifecycle.start(record);
    const restart = lifecycle.restart(record, { timeoutSeconds: 5 });
    const stop = lifecycle.stop(record, { timeoutSeconds: 5 }).catch((err) => err.kind);
    await restart;
    await stop;
    await lifecycle.close();
    const live = runtime.containers.has(record.id);
    assert.equal(record.state.Running, live, `record ${record.state.Status}, runtime ${live ? 'holds it' : 'has none'}`);
    assert.ok(actions(record.id).includes('restart'));
  });

  test('a full disk at exit: waiters answered and the run torn down; the exit is saved once space returns (issue 12 item 4)', async () => {
    const record = await newRecord();
    await lifecycle.start(record);
    const save = store.save.bind(store);
    let failures = 0;
    store.save = async (r, o) => {
      if (failures < 2) {
        failures++;
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      }
      return save(r, o);
    };
    const waited = lifecycle.wait(record, 'next-exit');
    runtime.exit(record.id, 3);
    assert.deepEqual(await waited, { exitCode: 3 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(runtime.containers.has(record.id), false, 'runtime state released');
    assert.ok(layerCalls.includes(`unmount ${record.id}`));
    assert.ok(await runtimes.pendingExit(record.id), 'exit kept until saved');
    for (let i = 0; i < 50 && (await runtimes.pendingExit(record.id)); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(await runtimes.pendingExit(record.id), undefined, 'saved and acknowledged on retry');
    const reopened = await ContainerStore.open(root);
    assert.equal(reopened.get(record.id)?.state.ExitCode, 3);
  });

  test('--rm: the exit removes the record; wait removed answers; layer and runtime state go', async () => {
    const record = await newRecord({ autoRemove: true });
    const removed = lifecycle.wait(record, 'removed');
    await lifecycle.start(record);
    runtime.exit(record.id, 0);
    assert.deepEqual(await removed, { exitCode: 0 });
    await lifecycle.close();
    assert.equal(store.get(record.id), undefined);
    assert.equal(runtime.containers.has(record.id), false);
    assert.ok(layerCalls.includes(`remove ${record.id}`));
    assert.deepEqual(actions(record.id), ['start', 'die', 'destroy']);
  });

  test('a failed start leaves it created with the error, tears down and answers waiters', async () => {
    const record = await newRecord();
    runtime.failNext('create', new BerthError('internal', 'exec: "nosuch": executable file not found in $PATH', { exitCode: 127 }));
    const waited = lifecycle.wait(record, 'next-exit');
    await assert.rejects(lifecycle.start(record), /executable file not found/);
    assert.equal(record.state.Status, 'created');
    assert.equal(record.state.ExitCode, 127);
    assert.deepEqual(await waited, { exitCode: 127 });
    assert.ok(layerCalls.includes(`unmount ${record.id}`));
  });

  test('pause and unpause go through the runtime and publish their events', async () => {
    const record = await newRecord();
    await lifecycle.start(record);
    await lifecycle.pause(record);
    assert.equal(record.state.Status, 'paused');
    await lifecycle.unpause(record);
    assert.equal(record.state.Status, 'running');
    assert.deepEqual(actions(record.id), ['start', 'pause', 'unpause']);
  });

  test('stop, kill and rm -f of a paused container thaw it so that it dies (a frozen task takes no signal until thawed)', async () => {
    const hangs = () => new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hangs on a paused container')), 2000).unref());
    const paused = async () => {
      const record = await newRecord();
      await lifecycle.start(record);
      await lifecycle.pause(record);
      return record;
    };
    const stopped = await paused();
    runtime.ignoreSignal(stopped.id, 15); // busybox sleep as pid 1: SIGTERM does nothing
    await Promise.race([lifecycle.stop(stopped, { timeoutSeconds: 0 }), hangs()]);
    assert.deepEqual([stopped.state.Status, stopped.state.ExitCode], ['exited', 137]);
    assert.deepEqual(actions(stopped.id), ['start', 'pause', 'kill', 'unpause', 'kill', 'die', 'stop']);

    const killed = await paused();
    await Promise.race([lifecycle.kill(killed, 9), hangs()]);
    assert.deepEqual([killed.state.Status, killed.state.ExitCode], ['exited', 137]);

    // Its stop signal (none set: any signal) ends it too, as dockerd's kill.
    const terminated = await paused();
    await lifecycle.kill(terminated, 15);
    assert.deepEqual(await Promise.race([lifecycle.wait(terminated, 'not-running'), hangs()]), { exitCode: 143 });

    const removed = await paused();
    await Promise.race([lifecycle.remove(removed, { force: true }), hangs()]);
    assert.equal(store.get(removed.id), undefined);
  });

  test('reconciliation releases the run files of a record that is not running, also those the runtime does not list', async () => {
    const created = await newRecord();
    runtime.leftovers.add(created.id); // berthd killed early in `docker start`: a bundle and a persist dir, no runtime state
    const exited = await newRecord();
    await reconcile({ store, layers, runtimes, lifecycle, logger: quiet });
    await lifecycle.close();
    assert.equal(runtime.leftovers.has(created.id), false, 'its bundle and persist dir are deleted');
    assert.deepEqual(runtime.callsOf('delete').map((call) => call.id), [created.id], 'only a record with leftovers costs a runtime delete');
    assert.ok(layerCalls.includes(`unmount ${created.id}`));
    assert.equal(created.state.Status, 'created');
    assert.ok(store.get(exited.id));
  });

  test('removal of a container that is not running goes through the whole teardown before it answers', async () => {
    const record = await newRecord();
    runtime.leftovers.add(record.id);
    await lifecycle.remove(record, { force: false });
    assert.equal(runtime.leftovers.has(record.id), false, 'the runtime deletes what a crash left');
    assert.deepEqual(layerCalls.slice(-2), [`unmount ${record.id}`, `remove ${record.id}`], 'the layer is gone when rm answers');
  });

  test('reconciliation at daemon start: every record against the runtime\'s own list (issue 12 item 2)', async () => {
    const orphanId = 'f'.repeat(64);
    await plant(orphanId);
    const created = await newRecord();
    await plant(created.id); // killed between runtime create and the saved "running"
    const vanished = await newRecord();
    markRunning(vanished.state, 42);
    const alive = await newRecord();
    markRunning(alive.state, 43);
    await plant(alive.id);
    const neverStarted = await newRecord();
    markRunning(neverStarted.state, 44);
    await runtime.create({ id: neverStarted.id, name: 'ns', spec: {} as OciSpec, logPath: '', tty: false, stdin: false });
    const leftover = 'e'.repeat(64); // an rm -f cut short after the record went: its layer is left (issue 12 item 3)
    layerIds.push(leftover, alive.id);
    await reconcile({ store, layers, runtimes, lifecycle, logger: quiet });
    await lifecycle.close();
    assert.deepEqual(layerCalls.filter((c) => c.endsWith(leftover)), [`unmount ${leftover}`, `remove ${leftover}`]);
    assert.ok(!layerCalls.some((c) => c.endsWith(alive.id)), 'a live container\'s layer stays');
    assert.equal(runtime.containers.has(orphanId), false, 'a runtime container without a record is swept');
    assert.equal(runtime.containers.has(created.id), false, 'a created record\'s runtime container is deleted');
    assert.equal(created.state.Status, 'created');
    assert.equal(vanished.state.Status, 'exited');
    assert.equal(vanished.state.ExitCode, 255);
    assert.equal(alive.state.Status, 'running');
    assert.equal(runtime.containers.has(alive.id), true);
    assert.deepEqual([neverStarted.state.Status, neverStarted.state.ExitCode], ['exited', 255]);
    assert.equal(runtime.containers.has(neverStarted.id), false, 'its run torn down');
  });

  test('the state machine refuses a change the life cycle does not have', () => {
    const state = initialState();
    markRemoving(state);
    assert.throws(() => markRunning(state, 1), /cannot change from removing to running/);
  });

  /** Resolves once the container's state is `status` (restarts happen on their own timers). */
  async function until(record: ContainerRecord, status: string, ms = 3000): Promise<void> {
    for (const end = Date.now() + ms; record.state.Status !== status; await new Promise((r) => setTimeout(r, 5))) {
      if (Date.now() > end) assert.fail(`still ${record.state.Status}, not ${status}`);
    }
  }

  test('on-failure:2 restarts a failing container twice, 100 then 200 ms later, and counts the restarts', async () => {
    const record = await newRecord({ restart: 'on-failure', retries: 2 });
    await lifecycle.start(record);
    const restartedAt: number[] = [];
    for (let run = 1; run <= 2; run++) {
      const exitedAt = Date.now();
      runtime.exit(record.id, 3);
      await until(record, 'restarting');
      assert.deepEqual([record.state.Running, record.state.Restarting, record.state.Pid, record.state.ExitCode], [true, true, 0, 3]);
      assert.equal(record.restartCount, run);
      await until(record, 'running');
      restartedAt.push(Date.now() - exitedAt);
    }
    assert.ok(restartedAt[0]! >= 100 && restartedAt[1]! >= 200, `back-off ${restartedAt}`);
    runtime.exit(record.id, 3);
    await until(record, 'exited');
    await lifecycle.close();
    assert.equal(record.restartCount, 2);
    assert.deepEqual(actions(record.id), ['start', 'die', 'start', 'die', 'start', 'die']);
    const die = events.find((e) => e.action === 'die' && e.actorId === record.id);
    assert.deepEqual([die?.attributes.exitCode, die?.attributes.execDuration], ['3', '0']);
    assert.equal(runtime.callsOf('create').length, 3);
    assert.equal(runtime.containers.has(record.id), false, 'every run torn down');
  });

  test('on-failure does not restart a clean exit; "no" restarts nothing', async () => {
    const clean = await newRecord({ restart: 'on-failure' });
    const never = await newRecord();
    await lifecycle.start(clean);
    await lifecycle.start(never);
    runtime.exit(clean.id, 0);
    runtime.exit(never.id, 1);
    await until(clean, 'exited');
    await until(never, 'exited');
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual([clean.state.Status, clean.restartCount, never.state.Status, never.restartCount], ['exited', 0, 'exited', 0]);
  });

  test('a stop by hand is not followed by a restart, even with "always", and is remembered on the record', async () => {
    const record = await newRecord({ restart: 'always' });
    await lifecycle.start(record);
    await lifecycle.stop(record, { timeoutSeconds: 5 });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(record.state.Status, 'exited');
    assert.equal(record.manuallyStopped, true);
    assert.equal(JSON.parse(await readFile(join(store.dir(record.id), 'config.v2.json'), 'utf8')).manuallyStopped, true);
    await lifecycle.start(record);
    assert.equal(record.manuallyStopped, false, 'a start by hand forgets it');
    runtime.exit(record.id, 0);
    await until(record, 'restarting');
    await until(record, 'running');
  });

  test('stop, kill and rm -f of a container waiting to restart end the restarts: exited, nothing runs, no kill event', async () => {
    for (const end of ['stop', 'kill', 'rm'] as const) {
      const record = await newRecord({ restart: 'always' });
      await lifecycle.start(record);
      runtime.exit(record.id, 1);
      await until(record, 'restarting');
      if (end === 'stop') await lifecycle.stop(record, {});
      if (end === 'kill') await lifecycle.kill(record, 9);
      if (end === 'rm') await assert.rejects(lifecycle.remove(record, { force: false }), /You cannot remove a restarting container .*\. Stop the container/);
      if (end === 'rm') await lifecycle.remove(record, { force: true });
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(runtime.callsOf('create').filter((c) => c.id === record.id).length, 1, `${end}: never started again`);
      if (end !== 'rm') assert.deepEqual([record.state.Status, record.state.Running, record.state.ExitCode], ['exited', false, 1], end);
      else assert.equal(store.get(record.id), undefined);
      assert.ok(!actions(record.id).includes('kill'), `${end}: ${actions(record.id)}`);
    }
  });

  test('a stop that arrives while the restart is starting stops the new run: exited, and no further restart', async () => {
    const record = await newRecord({ restart: 'always' });
    await lifecycle.start(record);
    const gate = runtime.hold('start', record.id);
    runtime.exit(record.id, 1);
    await gate.reached;
    assert.equal(record.state.Status, 'restarting');
    const stopping = lifecycle.stop(record, { timeoutSeconds: 5 });
    await new Promise((r) => setTimeout(r, 20));
    gate.release();
    await stopping;
    await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual([record.state.Status, record.state.Running], ['exited', false]);
    assert.equal(runtime.callsOf('create').filter((c) => c.id === record.id).length, 2);
  });

  test('pause of a container waiting to restart is Docker\'s 409', async () => {
    const record = await newRecord({ restart: 'always' });
    await lifecycle.start(record);
    runtime.exit(record.id, 1);
    await until(record, 'restarting');
    await assert.rejects(lifecycle.pause(record), /Container .* is restarting, wait until the container is running/);
    await lifecycle.stop(record, {});
  });

  test('a restart whose start fails ends the restarts: exited with the last exit code and the error', async () => {
    const record = await newRecord({ restart: 'always' });
    await lifecycle.start(record);
    runtime.failNext('create', new BerthError('internal', 'no such file'), record.id);
    runtime.exit(record.id, 4);
    await until(record, 'exited');
    assert.deepEqual([record.state.ExitCode, record.state.Error, record.state.Restarting], [4, 'no such file', false]);
  });

  test('restart of an --rm container keeps it (the stop of a restart does not auto-remove)', async () => {
    const record = await newRecord({ autoRemove: true });
    await lifecycle.start(record);
    await lifecycle.restart(record, { timeoutSeconds: 5 });
    assert.equal(store.get(record.id), record);
    assert.equal(record.state.Status, 'running');
    assert.deepEqual(actions(record.id), ['start', 'kill', 'die', 'stop', 'start', 'restart']);
  });

  test('daemon start: restarts owed are carried out as moby does (always and unless-stopped, manual stops, counts)', async () => {
    const make = async (restart: string, exitCode: number, options: { manual?: boolean; retries?: number; restartCount?: number } = {}) => {
      const record = await newRecord({ restart, retries: options.retries });
      markRunning(record.state, 1);
      record.state.Status = 'running';
      Object.assign(record.state, { Status: 'exited', Running: false, ExitCode: exitCode });
      record.manuallyStopped = options.manual ?? false;
      record.restartCount = options.restartCount ?? 0;
      return record;
    };
    const always = await make('always', 137, { manual: true });
    const unlessStopped = await make('unless-stopped', 137, { manual: true });
    const unlessExited = await make('unless-stopped', 0);
    const failedOnce = await make('on-failure', 1, { retries: 3, restartCount: 1 });
    const failedOut = await make('on-failure', 1, { retries: 3, restartCount: 3 });
    const none = await make('no', 1);
    const neverStarted = await newRecord({ restart: 'always' });
    const waiting = await newRecord({ restart: 'always' });
    Object.assign(waiting.state, { Status: 'restarting', Running: true, Restarting: true, ExitCode: 2, StartedAt: new Date().toISOString() });
    waiting.restartCount = 5;
    await reconcile({ store, layers, runtimes, lifecycle, logger: quiet });
    for (const record of [always, unlessExited, failedOnce, waiting]) await until(record, 'running');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      [unlessStopped, failedOut, none, neverStarted].map((r) => r.state.Status),
      ['exited', 'exited', 'exited', 'created'],
    );
    assert.equal(waiting.restartCount, 5, 'the restart it was owed keeps its count');
    assert.equal(failedOnce.restartCount, 0, 'a start at daemon start is a start by hand (moby)');
  });
});
