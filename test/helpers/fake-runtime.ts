/**
 * An in-memory ContainerRuntime and RuntimeSet for unit tests of the engine's state machine
 * (issue 11 item 4): no process, no file. A test ends a run with `exit(id, code)`, makes any
 * operation fail (`failNext`) or wait at a gate (`hold`) to drive races (start/start, rm during
 * start, exit during rm, stop during restart), and reads every call back from `calls`.
 *
 * It behaves as conmon + crun do where the engine can tell: a container is 'created' after
 * create and 'running' after start; a signal ends the run with 128+signal unless the test
 * ignores it (`ignoreSignal`), that of a paused one only once it is resumed (a frozen task dies
 * only when thawed); exits are reported once through the set and stay pending until
 * acknowledged; delete kills first with force, refuses a live container without, and forgets an
 * unknown id silently.
 */
import { PassThrough, Writable } from 'node:stream';
import { BerthError, conflict, invalidParameter, notFound } from '../../src/common/errors.js';
import type { CgroupFeatures } from '../../src/runtime/cgroup-features.js';
import type { CgroupInfo } from '../../src/runtime/cgroups.js';
import type {
  AttachConnection,
  ContainerRuntime,
  CreateRequest,
  ExecProcess,
  ExecRequest,
  Exit,
  ResourceUpdate,
  RuntimeSet,
  RuntimeState,
  RuntimeStats,
  StdStream,
} from '../../src/runtime/container-runtime.js';

export type FakeOperation = keyof Omit<ContainerRuntime, 'name' | 'path'>;

export interface FakeCall {
  runtime: string;
  operation: FakeOperation;
  id: string;
  /** The other arguments, as passed. */
  args: unknown[];
}

/** A call held at its gate: `reached` resolves when the call arrives, `release` lets it go on. */
export interface Gate {
  reached: Promise<void>;
  release(): void;
}

export interface FakeContainer {
  id: string;
  request: CreateRequest;
  status: RuntimeState['status'];
  pid: number;
  resources: ResourceUpdate[];
  /** Everything written to the container's stdin. */
  stdin: Buffer[];
  stdinClosed: boolean;
  ignoredSignals: Set<number>;
  /** Signals sent while paused: a frozen process (cgroup v1 freezer) gets them, and dies, only once resumed. */
  pendingSignals: number[];
  /** The output channel of attach connections to the current run. */
  output: Set<PassThrough>;
}

interface Fault {
  operation: FakeOperation;
  id?: string;
  error: Error;
}

interface HeldGate {
  operation: FakeOperation;
  id?: string;
  arrive: () => void;
  released: Promise<void>;
}

let nextPid = 1000;

export class FakeRuntime implements ContainerRuntime {
  readonly path: string;
  readonly containers = new Map<string, FakeContainer>();
  readonly calls: FakeCall[] = [];
  /**
   * Ids with run files and no runtime state (a bundle or persist dir written before a crash cut
   * the create short): `list` does not show them, the set's sweep finds them, `delete` removes them.
   */
  readonly leftovers = new Set<string>();
  readonly execs = new Map<string, { id: string; request: ExecRequest; finish: (code: number) => void; output: PassThrough }>();
  private readonly faults: Fault[] = [];
  private readonly gates: HeldGate[] = [];

  constructor(
    readonly name: string,
    private readonly reportExit: (exit: Exit) => void,
  ) {
    this.path = `/fake/${name}`;
  }

  /** The next call of `operation` (on `id`, when given) throws `error` instead of acting. */
  failNext(operation: FakeOperation, error: Error = new BerthError('internal', `fake ${operation} failure`), id?: string): void {
    this.faults.push({ operation, id, error });
  }

  /** The next call of `operation` (on `id`, when given) waits until the gate is released. */
  hold(operation: FakeOperation, id?: string): Gate {
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.gates.push({ operation, id, arrive, released });
    return { reached, release };
  }

  /** Ends the container's current run with `code`, as if its process exited. */
  exit(id: string, code: number, options: { oomKilled?: boolean; finishedAt?: Date } = {}): void {
    const container = this.require(id);
    if (container.status !== 'running' && container.status !== 'paused' && container.status !== 'created') {
      throw new Error(`fake: container ${id} is ${container.status}, it cannot exit`);
    }
    container.status = 'stopped';
    for (const channel of container.output) channel.end();
    container.output.clear();
    this.reportExit({ id, code, finishedAt: options.finishedAt ?? new Date(), oomKilled: options.oomKilled ?? false });
  }

  /** Output from the container's process, to every attach connection of the run. */
  write(id: string, stream: StdStream, data: string | Buffer): void {
    for (const channel of this.require(id).output) channel.write({ stream, data: Buffer.from(data) });
  }

  /** Signals the process survives (a program that traps SIGTERM). */
  ignoreSignal(id: string, signal: number): void {
    this.require(id).ignoredSignals.add(signal);
  }

  /** Calls of `operation`, in order. */
  callsOf(operation: FakeOperation): FakeCall[] {
    return this.calls.filter((call) => call.operation === operation);
  }

  private require(id: string): FakeContainer {
    const container = this.containers.get(id);
    if (!container) throw notFound(`fake ${this.name}: no container ${id}`);
    return container;
  }

  /** Records the call, then applies a fault or a gate set for it. */
  private async enter(operation: FakeOperation, id: string, ...args: unknown[]): Promise<void> {
    this.calls.push({ runtime: this.name, operation, id, args });
    const matches = (entry: { operation: FakeOperation; id?: string }) =>
      entry.operation === operation && (entry.id === undefined || entry.id === id);
    const gateIndex = this.gates.findIndex(matches);
    if (gateIndex !== -1) {
      const [gate] = this.gates.splice(gateIndex, 1);
      gate.arrive();
      await gate.released;
    }
    const faultIndex = this.faults.findIndex(matches);
    if (faultIndex !== -1) throw this.faults.splice(faultIndex, 1)[0].error;
  }

  async create(request: CreateRequest): Promise<{ pid: number }> {
    await this.enter('create', request.id, request);
    const existing = this.containers.get(request.id);
    if (existing) throw conflict(`fake ${this.name}: container ${request.id} already exists`);
    const pid = nextPid++;
    this.containers.set(request.id, {
      id: request.id,
      request,
      status: 'created',
      pid,
      resources: [],
      stdin: [],
      stdinClosed: false,
      ignoredSignals: new Set(),
      pendingSignals: [],
      output: new Set(),
    });
    return { pid };
  }

  async start(id: string): Promise<void> {
    await this.enter('start', id);
    const container = this.require(id);
    if (container.status !== 'created') throw conflict(`fake ${this.name}: container ${id} is ${container.status}, not created`);
    container.status = 'running';
  }

  async kill(id: string, signal: number): Promise<void> {
    await this.enter('kill', id, signal);
    const container = this.require(id);
    if (container.status === 'stopped') throw conflict(`fake ${this.name}: container ${id} is not running`);
    if (container.status === 'paused') {
      container.pendingSignals.push(signal);
      return;
    }
    this.deliver(container, signal);
  }

  private deliver(container: FakeContainer, signal: number): void {
    if (container.ignoredSignals.has(signal) && signal !== 9) return;
    // The process dies a moment later, as a real one does.
    setImmediate(() => {
      if (container.status !== 'stopped' && this.containers.get(container.id) === container) this.exit(container.id, 128 + signal);
    });
  }

  async delete(id: string, options: { force: boolean }): Promise<void> {
    await this.enter('delete', id, options);
    this.leftovers.delete(id);
    const container = this.containers.get(id);
    if (!container) return;
    if (container.status !== 'stopped' && container.status !== 'created' && !options.force) {
      throw conflict(`fake ${this.name}: cannot delete container ${id} that is not stopped`);
    }
    for (const channel of container.output) channel.end();
    this.containers.delete(id);
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    await this.enter('state', id);
    const container = this.containers.get(id);
    return container && { status: container.status, pid: container.pid };
  }

  async list(): Promise<Array<{ id: string; state: RuntimeState }>> {
    await this.enter('list', '');
    return [...this.containers.values()].map((c) => ({ id: c.id, state: { status: c.status, pid: c.pid } }));
  }

  async attach(id: string): Promise<AttachConnection> {
    await this.enter('attach', id);
    const container = this.require(id);
    if (container.status === 'stopped') throw conflict(`fake ${this.name}: container ${id} is not running`);
    const channel = new PassThrough({ objectMode: true });
    container.output.add(channel);
    const stdin = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        container.stdin.push(chunk);
        callback();
      },
      final(callback) {
        container.stdinClosed = true;
        callback();
      },
    });
    return {
      output: channel as AsyncIterable<{ stream: StdStream; data: Buffer }>,
      stdin,
      close: () => {
        container.output.delete(channel);
        channel.end();
      },
    };
  }

  async reopenLog(id: string): Promise<void> {
    await this.enter('reopenLog', id);
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    await this.enter('resize', id, height, width);
    this.require(id);
  }

  /** The exec runs until the test calls `finishExec(execId, code)`. */
  async exec(id: string, request: ExecRequest): Promise<ExecProcess> {
    await this.enter('exec', id, request);
    const container = this.require(id);
    if (container.status !== 'running') throw conflict(`fake ${this.name}: container ${id} is not running`);
    const output = new PassThrough({ objectMode: true });
    let finish!: (code: number) => void;
    const exited = new Promise<number>((resolve) => (finish = resolve));
    this.execs.set(request.execId, {
      id,
      request,
      output,
      finish: (code) => {
        output.end();
        this.execs.delete(request.execId);
        finish(code);
      },
    });
    return {
      pid: nextPid++,
      attach: {
        output: output as AsyncIterable<{ stream: StdStream; data: Buffer }>,
        stdin: new PassThrough(),
        close: () => output.end(),
      },
      resize: async () => {},
      exited,
    };
  }

  /** Ends exec `execId` with `code`. */
  finishExec(execId: string, code: number): void {
    const exec = this.execs.get(execId);
    if (!exec) throw new Error(`fake: no exec ${execId}`);
    exec.finish(code);
  }

  async pause(id: string): Promise<void> {
    await this.enter('pause', id);
    const container = this.require(id);
    if (container.status !== 'running') throw conflict(`fake ${this.name}: container ${id} is not running`);
    container.status = 'paused';
  }

  async resume(id: string): Promise<void> {
    await this.enter('resume', id);
    const container = this.require(id);
    if (container.status !== 'paused') throw conflict(`fake ${this.name}: container ${id} is not paused`);
    container.status = 'running';
    for (const signal of container.pendingSignals.splice(0)) this.deliver(container, signal);
  }

  async update(id: string, resources: ResourceUpdate): Promise<void> {
    await this.enter('update', id, resources);
    this.require(id).resources.push(resources);
  }

  async stats(id: string): Promise<RuntimeStats> {
    await this.enter('stats', id);
    const container = this.require(id);
    if (container.status === 'stopped') throw conflict(`fake ${this.name}: container ${id} is not running`);
    const memoryLimit = [...container.resources].reverse().find((r) => r.memory?.limit !== undefined)?.memory?.limit ?? 0;
    return {
      read: new Date(),
      cpu: { totalNs: 1_000_000, userNs: 600_000, systemNs: 400_000, systemUsageNs: 1_000_000_000, onlineCpus: 2, perCpuNs: [500_000, 500_000] },
      memory: { usage: 1 << 20, limit: memoryLimit, stats: {} },
      pids: { current: 1 },
      blkio: [],
      networks: {},
    };
  }

  async processes(id: string): Promise<number[]> {
    await this.enter('processes', id);
    const container = this.require(id);
    if (container.status === 'stopped') throw conflict(`fake ${this.name}: container ${id} is not running`);
    return [container.pid];
  }
}

/** The daemon's runtimes, faked: one FakeRuntime per name, and their exits. */
/** A host whose cgroups enforce every limit, on two CPUs and one memory node. */
export const ALL_CGROUP_FEATURES: CgroupFeatures = {
  memoryLimit: true,
  swapLimit: true,
  memoryReservation: true,
  memorySwappiness: true,
  oomKillDisable: true,
  cpuShares: true,
  cpuCfs: true,
  cpuset: true,
  cpusetCpus: '0-1',
  cpusetMems: '0',
  pidsLimit: true,
  blkioWeight: true,
};

export class FakeRuntimeSet implements RuntimeSet {
  readonly defaultName: string;
  private readonly runtimes = new Map<string, FakeRuntime>();
  private readonly pending = new Map<string, Exit>();
  private listener: ((exit: Exit) => void) | undefined;

  constructor(
    names: string[] = ['crun', 'runc'],
    private readonly cgroups: CgroupInfo = { version: '2', driver: 'cgroupfs', hybrid: false },
  ) {
    this.defaultName = names[0];
    for (const name of names) this.runtimes.set(name, new FakeRuntime(name, (exit) => this.recordExit(exit)));
  }

  /** The fake behind `name`, to script it ('' is the default). */
  runtime(name = ''): FakeRuntime {
    return this.get(name) as FakeRuntime;
  }

  get(name: string): FakeRuntime {
    const runtime = this.runtimes.get(name || this.defaultName);
    if (!runtime) throw invalidParameter(`unknown or invalid runtime name: ${name}`);
    return runtime;
  }

  all(): FakeRuntime[] {
    return [...this.runtimes.values()];
  }

  cgroupInfo(): CgroupInfo {
    return { ...this.cgroups };
  }

  cgroupFeatures(): CgroupFeatures {
    return { ...ALL_CGROUP_FEATURES };
  }

  async sweep(isKnown: (id: string) => boolean): Promise<string[]> {
    const swept: string[] = [];
    for (const runtime of this.runtimes.values()) {
      const held = new Set([...runtime.containers.keys(), ...runtime.leftovers]);
      for (const id of [...held].filter((id) => !isKnown(id))) {
        await runtime.delete(id, { force: true });
        swept.push(id);
      }
    }
    return swept;
  }

  private recordExit(exit: Exit): void {
    this.pending.set(exit.id, exit);
    this.listener?.(exit);
  }

  /** Exits that happened while nobody listened (a daemon restart) are reported now. */
  async watchExits(listener: (exit: Exit) => void): Promise<void> {
    this.listener = listener;
    for (const exit of this.pending.values()) listener(exit);
  }

  async pendingExit(id: string): Promise<Exit | undefined> {
    return this.pending.get(id);
  }

  async acknowledgeExit(id: string): Promise<void> {
    this.pending.delete(id);
  }

  close(): void {
    this.listener = undefined;
  }
}
