/**
 * `--since`/`--until` values as the docker CLI turns them into API timestamps: Unix seconds pass
 * through, Go durations ("10m", "1h30m") count back from now, RFC 3339 dates are converted.
 */
import { goDurationMs } from '../common/go-duration.js';

export function apiTimestamp(value: string, now: Date = new Date()): string {
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  const milliseconds = /^\d/.test(value) ? goDurationMs(value) : undefined;
  if (milliseconds !== undefined) return toSeconds(now.getTime() - milliseconds);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new Error(`invalid value for "since": "${value}" is neither a timestamp nor a duration`);
  return toSeconds(parsed);
}

const toSeconds = (milliseconds: number) => (milliseconds / 1000).toFixed(9).replace(/\.?0+$/, '');
