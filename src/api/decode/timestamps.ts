import { invalidParameter } from '../../common/errors.js';
import { goTimestamp } from '../../common/go-timestamp.js';

/**
 * A point in time as the API takes it (`since`, `until`): Unix seconds with an optional fraction,
 * which is what the docker CLI sends, or an RFC 3339 date or Go duration as users type them;
 * nanoseconds since the epoch, undefined when absent.
 */
export function parseTimestamp(value: string | undefined, name: string): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  const nanos = goTimestamp(value);
  if (nanos === undefined) throw invalidParameter(`invalid value for ${name}: ${value}`);
  return nanos;
}
