/**
 * Health checks (moby's daemon/health.go): while a run of a container with a check is live and not
 * paused, its probe runs every Interval (StartInterval during the start period while the status
 * is still `starting`); a success makes it `healthy`, Retries failures in a row (failures inside
 * the start period do not count before the first success) make it `unhealthy`. State.Health keeps
 * the status, the failing streak and the last five results; each change of status is published
 * as `health_status: <status>`. One monitor per container at most; a new run starts it again at
 * `starting`, a resumed one goes on where it was.
 *
 * Owns its timers and probes: `unwatch` and `close` stop them and kill a probe under way.
 */
import type { Logger } from '../../common/logger.js';
import type { ContainerRuntime } from '../../runtime/container-runtime.js';
import type { HealthcheckResultWire, HealthWire } from '../../wire/containers.js';
import { probeCommand, runProbe } from './health-probe.js';
import type { ContainerEventAction } from './lifecycle.js';
import type { RunWatcher } from './lifecycle-types.js';
import type { ContainerRecord } from './model.js';

const SECOND_NS = 1e9;
const DEFAULT_INTERVAL_NS = 30 * SECOND_NS;
const DEFAULT_TIMEOUT_NS = 30 * SECOND_NS;
const DEFAULT_START_INTERVAL_NS = 5 * SECOND_NS;
const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;

export interface HealthMonitorOptions {
  runtimeOf(record: ContainerRecord): ContainerRuntime;
  publish(action: ContainerEventAction, record: ContainerRecord, details?: Record<string, string>): void;
  logger: Logger;
}

/** The monitor of one run: its next probe's timer, or the probe under way. */
interface Monitor {
  timer?: NodeJS.Timeout;
  stop: AbortController;
}

export class HealthMonitor implements RunWatcher {
  private readonly monitors = new Map<string, Monitor>();

  constructor(private readonly options: HealthMonitorOptions) {}

  watch(record: ContainerRecord, { fresh }: { fresh: boolean }): void {
    const command = probeCommand(record.config.Healthcheck?.Test);
    if (!command) return;
    this.unwatch(record.id);
    if (fresh || !record.state.Health) {
      record.state.Health = { Status: 'starting', FailingStreak: 0, Log: record.state.Health?.Log ?? [] };
    }
    const monitor: Monitor = { stop: new AbortController() };
    this.monitors.set(record.id, monitor);
    this.schedule(record, monitor, command);
  }

  unwatch(id: string): void {
    const monitor = this.monitors.get(id);
    if (!monitor) return;
    clearTimeout(monitor.timer);
    monitor.stop.abort();
    this.monitors.delete(id);
  }

  close(): void {
    for (const id of [...this.monitors.keys()]) this.unwatch(id);
  }

  /** Moby's getInterval: StartInterval while starting within the start period, else Interval. */
  private intervalNs(record: ContainerRecord): number {
    const check = record.config.Healthcheck ?? {};
    const interval = check.Interval || DEFAULT_INTERVAL_NS;
    const sinceStartNs = (Date.now() - Date.parse(record.state.StartedAt)) * 1e6;
    if (sinceStartNs >= (check.StartPeriod ?? 0)) return interval;
    return record.state.Health?.Status === 'starting' ? check.StartInterval || DEFAULT_START_INTERVAL_NS : interval;
  }

  private schedule(record: ContainerRecord, monitor: Monitor, command: string[]): void {
    monitor.timer = setTimeout(() => {
      monitor.timer = undefined;
      void this.probe(record, monitor, command);
    }, this.intervalNs(record) / 1e6);
  }

  private async probe(record: ContainerRecord, monitor: Monitor, command: string[]): Promise<void> {
    const describe = `${command[0]} ${command.slice(1).join(' ')}`;
    const result = await runProbe({
      runtime: this.options.runtimeOf(record),
      record,
      command,
      timeoutNs: record.config.Healthcheck?.Timeout || DEFAULT_TIMEOUT_NS,
      signal: monitor.stop.signal,
      onExec: (action, execId, exitCode) =>
        this.options.publish(action === 'exec_die' ? action : `${action}: ${describe}`, record, {
          execID: execId,
          ...(exitCode !== undefined && { exitCode: String(exitCode) }),
        }),
    }).catch((err: unknown) => {
      this.options.logger.warn('health check', { id: record.id, err });
      return undefined;
    });
    // Stopped meanwhile (the run ended or paused): the result no longer counts.
    if (monitor.stop.signal.aborted || this.monitors.get(record.id) !== monitor) return;
    if (result) this.record(record, result);
    this.schedule(record, monitor, command);
  }

  /** Moby's handleProbeResult. */
  private record(record: ContainerRecord, result: HealthcheckResultWire): void {
    const health: HealthWire = record.state.Health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    const before = health.Status;
    health.Log = [...health.Log, result].slice(-MAX_LOG_ENTRIES);
    if (result.ExitCode === 0) {
      health.FailingStreak = 0;
      health.Status = 'healthy';
    } else {
      const check = record.config.Healthcheck ?? {};
      const inStartPeriod = (Date.parse(result.Start) - Date.parse(record.state.StartedAt)) * 1e6 < (check.StartPeriod ?? 0);
      if (!(health.Status === 'starting' && inStartPeriod)) {
        health.FailingStreak++;
        const retries = (check.Retries ?? 0) > 0 ? check.Retries! : DEFAULT_RETRIES;
        if (health.FailingStreak >= retries) health.Status = 'unhealthy';
      }
    }
    record.state.Health = health;
    if (health.Status !== before) this.options.publish(`health_status: ${health.Status}`, record);
  }
}
