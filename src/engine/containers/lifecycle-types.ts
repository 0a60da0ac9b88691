/** The typed inputs and results of the container life-cycle operations, as the API passes and shows them. */
import type { ContainerRecord } from './model.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** How a wait ended: the exit code, or `canceled` when the waiting client went away. */
export type WaitResult = { exitCode: number } | { canceled: true };

export interface StopOptions {
  /** Seconds before SIGKILL; -1 waits for ever; absent: the container's StopTimeout or 10. */
  timeoutSeconds?: number;
  /** The signal number; absent: the container's StopSignal or SIGTERM. */
  signal?: number;
}

/** Bytes of a container's own changes, and of its whole root file system (image included). */
export interface ContainerSizes {
  sizeRw: number;
  sizeRootFs: number;
}

/**
 * Told when a run of a container starts, pauses, resumes and ends (the health checks follow runs
 * this way). `fresh`: a new run (or one found alive at daemon start), not a resumed one.
 */
export interface RunWatcher {
  watch(record: ContainerRecord, options: { fresh: boolean }): void;
  unwatch(id: string): void;
}
