/**
 * `docker exec`: exec instances made in a running container (create), run once (start), followed
 * to their end and inspected afterwards. As in moby, an instance is a record the daemon keeps
 * until its container goes; the process itself runs under its own conmon (the runtime's exec),
 * so it outlives a client that goes away, whose output is then drained and dropped.
 *
 * Events as dockerd: `exec_create: CMD ARGS`, `exec_start: CMD ARGS` and `exec_die` (with the
 * exit code), each with the exec's id in `execID`.
 */
import type { Writable } from 'node:stream';
import { BerthError, conflict, invalidParameter, notFound } from '../../common/errors.js';
import { newId } from '../../common/ids.js';
import type { Logger } from '../../common/logger.js';
import type { ExecProcess, StdStream } from '../../runtime/container-runtime.js';
import type { AttachClient } from './attach-hub.js';
import { execRequest, type ExecOptions } from './exec-config.js';
import type { ContainerRecord } from './model.js';
import type { ContainerService } from './service.js';

/** One exec instance, as GET /exec/{id}/json shows it. */
export interface ExecInstance {
  readonly id: string;
  readonly containerId: string;
  readonly options: ExecOptions;
  running: boolean;
  /** null until the process has ended (or failed to start). */
  exitCode: number | null;
  pid: number;
}

interface ExecEntry extends ExecInstance {
  started: boolean;
  process?: ExecProcess;
  /** Settles once the process runs (or failed to start); resize waits on it. */
  ready: Promise<void>;
  markReady: () => void;
}

/** A started exec, as the client that started it holds it. */
export interface StartedExec {
  /** The process's stdin; present when the exec attached stdin. */
  stdin?: Writable;
  /** Settles when the output has ended and the exit code is recorded. */
  ended: Promise<void>;
  /** The client went away: its output is dropped from now on and stdin is closed; the process runs on. */
  detachClient(): void;
}

export interface ExecServiceOptions {
  containers: ContainerService;
  logger: Logger;
}

/**
 * Instances not running (ended, or made and never started) are kept for inspection and start;
 * past this many per container the oldest go, so a client that only creates cannot grow the map.
 */
const MAX_IDLE_PER_CONTAINER = 1024;
/** How long a resize waits for a start that is on its way (moby waits 10 s too). */
const READY_TIMEOUT_MS = 10_000;

/**
 * An exec instance belongs to its container and goes with it: one whose container is gone is
 * never found again, and is dropped from the map the next time an exec is made or looked up.
 */
export class ExecService {
  private readonly execs = new Map<string, ExecEntry>();

  constructor(private readonly options: ExecServiceOptions) {}

  /** The container as exec needs it: running, not paused, not restarting (moby's getActiveContainer). */
  private activeContainer(idOrName: string): ContainerRecord {
    const record = this.options.containers.inspect(idOrName);
    if (!record.state.Running) throw conflict(`container ${record.id} is not running`);
    if (record.state.Paused) throw conflict(`Container ${idOrName} is paused, unpause the container before exec`);
    if (record.state.Restarting) throw conflict(`Container ${idOrName} is restarting, wait until the container is running`);
    return record;
  }

  /**
   * The container's exec instances that have not ended, as inspect's ExecIDs lists them (moby
   * drops an instance from its container's list when the process exits).
   */
  idsOf(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId && e.exitCode === null).map((e) => e.id);
  }

  create(containerIdOrName: string, options: ExecOptions): ExecInstance {
    const record = this.activeContainer(containerIdOrName);
    if (options.cmd.length === 0) throw invalidParameter('No exec command specified');
    let markReady = () => {};
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const entry: ExecEntry = { id: newId(), containerId: record.id, options, running: false, exitCode: null, pid: 0, started: false, ready, markReady };
    this.dropGone();
    this.execs.set(entry.id, entry);
    this.forgetOldest(record.id);
    this.publish(`exec_create: ${options.cmd.join(' ')}`, record, { execID: entry.id });
    return entry;
  }

  inspect(id: string): ExecInstance {
    const entry = this.execs.get(id);
    if (entry && !this.options.containers.find(entry.containerId)) this.dropGone();
    if (!entry || !this.execs.has(id)) throw notFound(`No such exec instance: ${id}`);
    return entry;
  }

  /**
   * Runs the exec's process. `client` receives its output (none for a detached start) and is
   * ended once the exit code is recorded, so that a client inspecting the exec then reads it.
   * A process that cannot start records 126 (127 for a missing command) and rejects.
   */
  async start(id: string, consoleSize: ExecOptions['consoleSize'], client?: AttachClient): Promise<StartedExec> {
    const entry = this.inspect(id) as ExecEntry;
    if (entry.exitCode !== null) throw conflict(`Error: Exec command ${id} has already run`);
    if (entry.started) throw conflict(`Error: Exec command ${id} is already running`);
    entry.started = true;
    entry.running = true;
    let process: ExecProcess;
    try {
      const record = this.activeContainer(entry.containerId);
      const options = consoleSize ? { ...entry.options, consoleSize } : entry.options;
      const began = performance.now();
      const request = await execRequest(record, id, options);
      process = await this.options.containers.runtimeOf(record).exec(record.id, request);
      // The spec's consoleSize (how moby sizes an exec's terminal) is not applied by crun to an
      // exec: its terminal starts 0x0, and the client's own resize comes a round trip later, after
      // a quick program has read its size. So it is set as soon as the process runs.
      if (options.tty && options.consoleSize) await process.resize(options.consoleSize.height, options.consoleSize.width).catch(() => {});
      this.options.logger.debug('exec started', { id, pid: process.pid, ms: +(performance.now() - began).toFixed(2) });
      entry.process = process;
      entry.pid = process.pid;
      this.publish(`exec_start: ${entry.options.cmd.join(' ')}`, record, { execID: id });
    } catch (err) {
      entry.running = false;
      entry.exitCode = err instanceof BerthError && err.exitCode !== undefined && err.exitCode !== 125 ? err.exitCode : 126;
      entry.markReady();
      throw err;
    }
    entry.markReady();
    let receiver = client;
    const ended = this.follow(entry, process, (stream, chunk) => {
      if (receiver?.[stream]) receiver.write(stream, chunk);
    }).finally(() => receiver?.end());
    const stdin = entry.options.attachStdin ? process.attach.stdin : undefined;
    // A write after the process closed its stdin fails that write; the stream's 'error' says it again.
    stdin?.on('error', () => {});
    return {
      stdin,
      ended,
      detachClient: () => {
        receiver = undefined;
        stdin?.end();
      },
    };
  }

  /** Drains the output to its end (conmon stalls on a reader that stops), then records the exit. */
  private async follow(entry: ExecEntry, process: ExecProcess, deliver: (stream: StdStream, chunk: Buffer) => void): Promise<void> {
    try {
      for await (const { stream, data } of process.attach.output) deliver(stream, data);
    } catch (err) {
      this.options.logger.debug('exec output ended with an error', { id: entry.id, err });
    }
    let code: number;
    try {
      code = await process.exited;
    } catch (err) {
      this.options.logger.warn('exec exit status unknown', { id: entry.id, err });
      code = -1;
    }
    process.attach.close();
    entry.running = false;
    entry.exitCode = code;
    entry.process = undefined;
    const record = this.options.containers.find(entry.containerId);
    if (record) this.publish('exec_die', record, { execID: entry.id, exitCode: String(code) });
    this.forgetOldest(entry.containerId);
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const entry = this.inspect(id) as ExecEntry;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS)));
    const outcome = await Promise.race([entry.ready.then(() => 'ready' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') throw new BerthError('internal', 'timeout waiting for exec session ready');
    // A terminal that has gone with its process has no size left to set.
    if (entry.process && entry.options.tty) await entry.process.resize(height, width);
  }

  private publish(action: `exec_create: ${string}` | `exec_start: ${string}` | 'exec_die', record: ContainerRecord, details: Record<string, string>): void {
    this.options.containers.publish(action, record, details);
  }

  /** Drops the instances of containers that have gone. */
  private dropGone(): void {
    for (const [id, entry] of this.execs) if (!this.options.containers.find(entry.containerId)) this.execs.delete(id);
  }

  private forgetOldest(containerId: string): void {
    const idle = [...this.execs.values()].filter((e) => e.containerId === containerId && !e.running);
    for (const entry of idle.slice(0, Math.max(0, idle.length - MAX_IDLE_PER_CONTAINER))) this.execs.delete(entry.id);
  }
}
