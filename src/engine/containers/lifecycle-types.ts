/** The typed inputs and results of the container life-cycle operations, as the API passes and shows them. */

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
