/**
 * A container's streams: the attach hub of its current run (output fanned out to attached
 * clients, their stdin funnelled in) and its log, read back for `docker logs`.
 */
import type { ContainerRuntime } from '../../runtime/container-runtime.js';
import { AttachHub } from './attach-hub.js';
import { readLogs, type LogEntry, type LogReadOptions } from './log-reader.js';
import type { ContainerRecord } from './model.js';
import type { RunNotifier } from './run-notifier.js';

export class ContainerStreams {
  private readonly hubs = new Map<string, AttachHub>();

  constructor(private readonly notifier: RunNotifier) {}

  hub(id: string): AttachHub {
    let hub = this.hubs.get(id);
    if (!hub) {
      hub = new AttachHub();
      this.hubs.set(id, hub);
    }
    return hub;
  }

  /** Before the program starts: connect when a client waits or stdin must be held open. */
  async beforeStart(record: ContainerRecord, runtime: ContainerRuntime): Promise<void> {
    const hub = this.hub(record.id);
    if (hub.hasClients || record.config.OpenStdin) await hub.connect(() => runtime.attach(record.id));
  }

  /** Joins a running container's output (the hub connects once for all its clients). */
  connect(id: string, runtime: ContainerRuntime): Promise<void> {
    return this.hub(id).connect(() => runtime.attach(id));
  }

  /** The run ended: its clients get its last output, then end. */
  runEnded(id: string): void {
    this.hubs.get(id)?.exited();
  }

  /** The run never started: its clients end now. */
  startFailed(id: string): void {
    this.hubs.get(id)?.finish();
  }

  removed(id: string): void {
    this.hubs.get(id)?.exited();
    this.hubs.delete(id);
  }

  logs(record: ContainerRecord, options: LogReadOptions, signal: AbortSignal): AsyncGenerator<LogEntry> {
    const source = {
      path: record.logPath,
      isLive: () => record.state.Running,
      onStop: (callback: () => void) => {
        if (!record.state.Running) {
          callback();
          return () => {};
        }
        return this.notifier.onRunEnd(record.id, callback);
      },
    };
    return readLogs(source, options, signal);
  }

  close(): void {
    for (const hub of this.hubs.values()) hub.finish();
  }
}
