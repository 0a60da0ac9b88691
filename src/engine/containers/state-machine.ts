/**
 * A container's life-cycle states, as Docker names them, and the only ways between them. Every
 * change of a record's state goes through one of these functions, which refuse a change the life
 * cycle does not have (a bug, reported as an internal error, never a silent overwrite).
 */
import { BerthError } from '../../common/errors.js';
import type { ContainerState, ContainerStatus } from './model.js';

const NEXT: Record<ContainerStatus, readonly ContainerStatus[]> = {
  created: ['running', 'created', 'removing'],
  running: ['exited', 'paused', 'created'],
  paused: ['running', 'exited'],
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
  state.Running = to === 'running' || to === 'paused';
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

export function markExited(state: ContainerState, exit: { code: number; finishedAt: Date; oomKilled: boolean; error?: string }): void {
  move(state, 'exited');
  Object.assign(state, {
    Pid: 0,
    ExitCode: exit.code,
    Error: exit.error ?? '',
    OOMKilled: exit.oomKilled,
    FinishedAt: exit.finishedAt.toISOString(),
  });
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

/** Whether the container is on its way out (start, attach and rename are refused then). */
export function isGoing(state: ContainerState): boolean {
  return state.Status === 'removing' || state.Status === 'dead';
}
