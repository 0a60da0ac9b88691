/**
 * Docker's restart policies (moby's restartmanager): whether a run that ended is followed by
 * another, and after how long. The delay starts at 100 ms and doubles with every restart up to a
 * minute; a run that lasted 10 s or more starts the count again. A stop or kill by a user cancels
 * the restarts of the container until it is started by hand again (moby's ExitOnNext); that is
 * kept in memory only, as in moby, so that an `always` container stopped by hand comes back when
 * the daemon starts again, and an `unless-stopped` one does not (its manual stop is on the record).
 *
 * The manager owns its timers: `close` clears them all (a restart owed at daemon shutdown stays
 * `restarting` on the record, and the reconciler starts it at the next daemon start).
 */
import type { HostConfig } from './model.js';

export type RestartPolicy = HostConfig['RestartPolicy'];

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
/** A run at least this long resets the back-off. */
const RESET_AFTER_MS = 10_000;

export const RESTART_POLICIES = ['no', 'always', 'on-failure', 'unless-stopped'];

/** Moby's ShouldRestart: what the policy says of a run that ended with `exitCode`. */
export function policyRestarts(policy: RestartPolicy, exitCode: number, restartCount: number, manuallyStopped: boolean): boolean {
  switch (policy.Name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !manuallyStopped;
    case 'on-failure': {
      const max = policy.MaximumRetryCount;
      return exitCode !== 0 && (max === 0 || restartCount < max);
    }
    default:
      return false;
  }
}

interface Backoff {
  delayMs: number;
  canceled: boolean;
  timer?: NodeJS.Timeout;
}

export class RestartManager {
  private readonly byId = new Map<string, Backoff>();
  private closed = false;

  private backoff(id: string): Backoff {
    let entry = this.byId.get(id);
    if (!entry) {
      entry = { delayMs: 0, canceled: false };
      this.byId.set(id, entry);
    }
    return entry;
  }

  /**
   * The delay before the next run of a container whose run ended, or undefined when it is not
   * restarted (its policy, a cancel, or the daemon shutting down).
   */
  nextDelay(
    id: string,
    run: { policy: RestartPolicy; exitCode: number; restartCount: number; manuallyStopped: boolean; ranForMs: number },
  ): number | undefined {
    if (this.closed || this.isCanceled(id)) return undefined;
    if (!policyRestarts(run.policy, run.exitCode, run.restartCount, run.manuallyStopped)) return undefined;
    const entry = this.backoff(id);
    if (run.ranForMs >= RESET_AFTER_MS) entry.delayMs = 0;
    entry.delayMs = entry.delayMs === 0 ? FIRST_DELAY_MS : Math.min(entry.delayMs * 2, MAX_DELAY_MS);
    return entry.delayMs;
  }

  /** Runs `restart` after `delayMs`, unless canceled meanwhile. */
  schedule(id: string, delayMs: number, restart: () => void): void {
    if (this.closed) return;
    const entry = this.backoff(id);
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!entry.canceled) restart();
    }, delayMs);
  }

  /** A user stopped or killed the container: no restart until it is started by hand. */
  cancel(id: string): void {
    const entry = this.backoff(id);
    entry.canceled = true;
    clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  isCanceled(id: string): boolean {
    return this.byId.get(id)?.canceled ?? false;
  }

  /** A start by hand: a fresh back-off, restarts allowed again. */
  reset(id: string): void {
    this.forget(id);
  }

  /** The container is gone. */
  forget(id: string): void {
    clearTimeout(this.byId.get(id)?.timer);
    this.byId.delete(id);
  }

  close(): void {
    this.closed = true;
    for (const entry of this.byId.values()) clearTimeout(entry.timer);
    this.byId.clear();
  }
}
