import { invalidParameter } from '../../common/errors.js';

/**
 * A point in time as the API takes it (`since`, `until`): Unix seconds with an optional fraction,
 * as dockerd's timetypes.ParseTimestamps reads what the docker CLI sends, or an RFC 3339 date;
 * nanoseconds since the epoch, undefined when absent.
 */
export function parseTimestamp(value: string | undefined, name: string): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  const unix = value.match(/^(-?\d+)(?:\.(\d{1,9}))?$/);
  if (unix) return BigInt(unix[1]) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0'));
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !/^\d{4}-\d\d-\d\d/.test(value)) throw invalidParameter(`invalid value for ${name}: ${value}`);
  return BigInt(ms) * 1_000_000n;
}
