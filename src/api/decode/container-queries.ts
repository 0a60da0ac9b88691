/**
 * Query parameters of the container endpoints, decoded into typed values with dockerd's 400s
 * (moby's container router parses these before the daemon sees them).
 */
import { invalidParameter } from '../../common/errors.js';
import { goAtoi, goInteger } from '../../common/go-strconv.js';
import { parseSignal } from '../../engine/containers/signals.js';
import type { StopOptions, WaitCondition } from '../../engine/containers/lifecycle-types.js';
import type { LogReadOptions } from '../../engine/containers/log-reader.js';
import type { Query } from '../http.js';
import { parseTimestamp } from './timestamps.js';

const WAIT_CONDITIONS: readonly WaitCondition[] = ['not-running', 'next-exit', 'removed'];

/** stop and restart: `t` (or `timeout`) in seconds, -1 for "wait for ever"; `signal` by name or number. */
export function decodeStopOptions(query: Query): StopOptions {
  const signal = query.string('signal');
  return {
    timeoutSeconds: atoi(query, 't') ?? atoi(query, 'timeout'),
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

/** Go's strconv.Atoi (a 64-bit int), as moby parses stop's `t`; absent or empty is undefined. */
function atoi(query: Query, name: string): number | undefined {
  const text = query.string(name);
  return text ? goAtoi(text) : undefined;
}

/** Go's strconv.ParseUint(s, 10, 16), as moby parses `h` and `w`. */
function uint16Of(query: Query, name: string): number {
  return goInteger(query.string(name) ?? '', 'ParseUint', 0n, 0xffffn);
}

export function decodeResize(query: Query): { height: number; width: number } {
  return { height: uint16Of(query, 'h'), width: uint16Of(query, 'w') };
}

/** A logs bound; "0" means none, as dockerd reads since and until. */
function logBound(query: Query, name: string): bigint | undefined {
  const value = query.string(name);
  return value === '0' ? undefined : parseTimestamp(value, name);
}

/** `tail`: "all", absent or negative means every line. */
function logTail(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value === 'all') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw invalidParameter(`invalid value for tail: ${value}`);
  return n < 0 ? undefined : n;
}

/** GET /containers/{id}/logs: at least one stream, bounds, tail. */
export function decodeLogOptions(query: Query): LogReadOptions {
  const stdout = query.bool('stdout');
  const stderr = query.bool('stderr');
  if (!stdout && !stderr) throw invalidParameter('Bad parameters: you must choose at least one stream');
  return {
    stdout,
    stderr,
    follow: query.bool('follow'),
    sinceNs: logBound(query, 'since'),
    untilNs: logBound(query, 'until'),
    tail: logTail(query.string('tail')),
  };
}
