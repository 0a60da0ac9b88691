/**
 * A container's streams: the attach hub of its current run (output fanned out to attached
 * clients, their stdin funnelled in), its log files (rotated while it runs, when its log driver
 * has a max-size), and its log read back for `docker logs` and attach's replay.
 */
import { notImplemented } from '../../common/errors.js';
import type { ContainerRuntime } from '../../runtime/container-runtime.js';
import { AttachHub } from './attach-hub.js';
import { logSettings } from './log-config.js';
import { LogFiles } from './log-files.js';
import { readLogs, type LogEntry, type LogReadOptions } from './log-reader.js';
import { LogRotator } from './log-rotation.js';
import type { ContainerRecord } from './model.js';
import type { RunNotifier } from './run-notifier.js';

export class ContainerStreams {
  private readonly hubs = new Map<string, AttachHub>();
  private readonly logFiles = new Map<string, LogFiles>();
  private readonly rotators = new Map<string, LogRotator>();
  private readonly rotationListeners = new Map<string, Set<() => void>>();

  constructor(
    private readonly notifier: RunNotifier,
    private readonly warn: (message: string, fields: Record<string, unknown>) => void,
  ) {}

  hub(id: string): AttachHub {
    let hub = this.hubs.get(id);
    if (!hub) {
      hub = new AttachHub();
      this.hubs.set(id, hub);
    }
    return hub;
  }

  /** Where the monitor writes the log of a run; undefined when the log driver keeps none. */
  logPathOf(record: ContainerRecord): string | undefined {
    return logSettings(record.hostConfig.LogConfig).kept ? record.logPath : undefined;
  }

  /** Before the program starts: connect when a client waits or stdin must be held open; rotate the log from now on. */
  async beforeStart(record: ContainerRecord, runtime: ContainerRuntime): Promise<void> {
    const hub = this.hub(record.id);
    if (hub.hasClients || record.config.OpenStdin) await hub.connect(() => runtime.attach(record.id));
    this.rotate(record, runtime);
  }

  /** A container found running at daemon start: its log is rotated again. */
  resume(record: ContainerRecord, runtime: ContainerRuntime): void {
    this.rotate(record, runtime);
  }

  private rotate(record: ContainerRecord, runtime: ContainerRuntime): void {
    const { id } = record;
    const { kept, maxSize } = logSettings(record.hostConfig.LogConfig);
    if (!kept || maxSize === undefined) return;
    this.stopRotation(id);
    const rotator = new LogRotator(
      this.files(record),
      maxSize,
      () => runtime.reopenLog(id),
      () => this.rotationListeners.get(id)?.forEach((listener) => listener()),
      (err) => this.warn('rotating a container log', { id, err }),
    );
    this.rotators.set(id, rotator);
    rotator.start();
  }

  private stopRotation(id: string): void {
    this.rotators.get(id)?.stop();
    this.rotators.delete(id);
  }

  private files(record: ContainerRecord): LogFiles {
    let files = this.logFiles.get(record.id);
    if (!files) {
      files = new LogFiles(record.logPath, logSettings(record.hostConfig.LogConfig).maxFile);
      this.logFiles.set(record.id, files);
    }
    return files;
  }

  /** Joins a running container's output (the hub connects once for all its clients). */
  connect(id: string, runtime: ContainerRuntime): Promise<void> {
    return this.hub(id).connect(() => runtime.attach(id));
  }

  /** The run ended: its clients get its last output, then end. */
  runEnded(id: string): void {
    this.stopRotation(id);
    this.hubs.get(id)?.exited();
  }

  /** The run never started: its clients end now. */
  startFailed(id: string): void {
    this.stopRotation(id);
    this.hubs.get(id)?.finish();
  }

  removed(id: string): void {
    this.stopRotation(id);
    this.logFiles.delete(id);
    this.hubs.get(id)?.exited();
    this.hubs.delete(id);
  }

  /** The log so far (and, following, what comes); a driver that keeps none is moby's 501. */
  logs(record: ContainerRecord, options: LogReadOptions, signal: AbortSignal): AsyncGenerator<LogEntry> {
    if (!logSettings(record.hostConfig.LogConfig).kept) throw notImplemented('configured logging driver does not support reading');
    const { id } = record;
    const source = {
      files: this.files(record),
      isLive: () => record.state.Running,
      onStop: (callback: () => void) => {
        if (!record.state.Running) {
          callback();
          return () => {};
        }
        return this.notifier.onRunEnd(id, callback);
      },
      onRotate: (callback: () => void) => {
        const listeners = this.rotationListeners.get(id) ?? new Set();
        this.rotationListeners.set(id, listeners.add(callback));
        return () => {
          listeners.delete(callback);
          if (listeners.size === 0 && this.rotationListeners.get(id) === listeners) this.rotationListeners.delete(id);
        };
      },
    };
    return readLogs(source, options, signal);
  }

  close(): void {
    for (const id of [...this.rotators.keys()]) this.stopRotation(id);
    for (const hub of this.hubs.values()) hub.finish();
  }
}
