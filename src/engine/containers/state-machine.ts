/**
 * A container's life-cycle states, as Docker names them, and the only ways between them. Every
 * change of a record's state goes through one of these functions, which refuse a change the life
 * cycle does not have (a bug, reported as an internal error, never a silent overwrite).
 */
import { BerthError } from '../../common/errors.js';
import type { ContainerState, ContainerStatus } from './model.js';

const NEXT: Record<ContainerStatus, readonly ContainerStatus[]> = {
  created: ['running', 'created', 'removing'],
  running: ['exited', 'restarting', 'paused', 'created'],
  paused: ['running', 'exited', 'restarting'],
  restarting: ['running', 'exited', 'removing'],
  exited: ['running', 'created', 'removing'],
  removing: ['dead'],
  dead: ['removing'],
};

function move(state: ContainerState, to: ContainerStatus): void {
  if (!NEXT[state.Status].includes(to)) {
    throw new BerthError('internal', `container state cannot change from ${state.Status} to ${to}`);
  }
  state.Status = to;
  // As moby: a restarting container counts as running (stop, kill and rm treat it so).
  state.Running = to === 'running' || to === 'paused' || to === 'restarting';
  state.Paused = to === 'paused';
  state.Restarting = to === 'restarting';
  state.Dead = to === 'dead';
}

/** The run's program is about to be started (saved before, since the exit can follow at once). */
export function markRunning(state: ContainerState, pid: number, now = new Date()): void {
  move(state, 'running');
  Object.assign(state, { Pid: pid, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: now.toISOString() });
}

/** A start that failed leaves the container created, with the error and exit code set. */
export function markStartFailed(state: ContainerState, exitCode: number, error: string): void {
  move(state, 'created');
  Object.assign(state, { Pid: 0, ExitCode: exitCode, Error: error });
}

type RunEnd = { code: number; finishedAt: Date; oomKilled: boolean; error?: string };

/** The run ended for good (no restart follows). */
export function markExited(state: ContainerState, exit: RunEnd): void {
  endRun(state, 'exited', exit);
}

/** The run ended and the restart policy starts another after a delay. */
export function markRestarting(state: ContainerState, exit: RunEnd): void {
  endRun(state, 'restarting', exit);
}

function endRun(state: ContainerState, to: 'exited' | 'restarting', exit: RunEnd): void {
  move(state, to);
  Object.assign(state, {
    Pid: 0,
    ExitCode: exit.code,
    Error: exit.error ?? '',
    OOMKilled: exit.oomKilled,
    FinishedAt: exit.finishedAt.toISOString(),
  });
}

/** A restart that will not happen (canceled by a stop, or its start failed): exited as the last run ended. */
export function markRestartEnded(state: ContainerState, error?: string): void {
  move(state, 'exited');
  if (error !== undefined) state.Error = error;
}

export function markPaused(state: ContainerState): void {
  move(state, 'paused');
}

export function markUnpaused(state: ContainerState): void {
  move(state, 'running');
}

export function markRemoving(state: ContainerState): void {
  move(state, 'removing');
}

/** A removal that failed half-way: not startable, and `rm -f` tries again (as moby). */
export function markDead(state: ContainerState): void {
  move(state, 'dead');
}

/** Whether a run of the container is under way in the runtime (running or paused, not waiting to restart). */
export function hasLiveRun(state: ContainerState): boolean {
  return state.Running && !state.Restarting;
}

/** Whether the container is on its way out (start, attach and rename are refused then). */
export function isGoing(state: ContainerState): boolean {
  return state.Status === 'removing' || state.Status === 'dead';
}
