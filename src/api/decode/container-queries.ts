/**
 * Query parameters of the container endpoints, decoded into typed values with dockerd's 400s
 * (moby's container router parses these before the daemon sees them).
 */
import { invalidParameter } from '../../common/errors.js';
import { parseSignal } from '../../engine/containers/signals.js';
import type { StopOptions, WaitCondition } from '../../engine/containers/lifecycle-types.js';
import type { Query } from '../http.js';

const WAIT_CONDITIONS: readonly WaitCondition[] = ['not-running', 'next-exit', 'removed'];

/** stop and restart: `t` (or `timeout`) in seconds, -1 for "wait for ever"; `signal` by name or number. */
export function decodeStopOptions(query: Query): StopOptions {
  const signal = query.string('signal');
  return {
    timeoutSeconds: query.int('t') ?? query.int('timeout'),
    signal: signal ? parseSignal(signal) : undefined,
  };
}

export function decodeKillSignal(query: Query): number {
  return parseSignal(query.string('signal') || 'SIGKILL');
}

export function decodeWaitCondition(query: Query): WaitCondition {
  const condition = query.string('condition') || 'not-running';
  if (!(WAIT_CONDITIONS as readonly string[]).includes(condition)) throw invalidParameter(`invalid condition: "${condition}"`);
  return condition as WaitCondition;
}

/** Go's strconv.ParseUint(s, 10, 16), as moby parses `h` and `w`. */
function uint16Of(query: Query, name: string): number {
  const text = query.string(name) ?? '';
  if (!/^\d+$/.test(text)) throw invalidParameter(`strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`);
  const value = Number(text);
  if (value > 0xffff) throw invalidParameter(`strconv.ParseUint: parsing ${JSON.stringify(text)}: value out of range`);
  return value;
}

export function decodeResize(query: Query): { height: number; width: number } {
  return { height: uint16Of(query, 'h'), width: uint16Of(query, 'w') };
}
