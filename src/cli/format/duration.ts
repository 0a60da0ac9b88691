import { humanDuration } from '../../common/human-duration.js';

/** "9 seconds ago" for a Unix time in seconds, as the API gives `Created`. */
export function timeAgo(unixSeconds: number, now: Date = new Date()): string {
  return `${humanDuration(now.getTime() - unixSeconds * 1000)} ago`;
}

/** A Unix time as Go's time.Time prints it in UTC: "2026-11-23 17:43:00 +0000 UTC". */
export function goTime(unixSeconds: number): string {
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/**
 * Unix nanoseconds in the local time zone as Go's "2006-01-02T15:04:05.000000000Z07:00"
 * (jsonmessage.RFC3339NanoFixed, which `docker events` prints): always nine fraction digits.
 */
export function rfc3339NanoFixed(unixNanos: bigint): string {
  const seconds = unixNanos / 1_000_000_000n;
  const fraction = (unixNanos % 1_000_000_000n).toString().padStart(9, '0');
  const milliseconds = Number(seconds) * 1000;
  const offsetMinutes = -new Date(milliseconds).getTimezoneOffset();
  const local = new Date(milliseconds + offsetMinutes * 60_000).toISOString().slice(0, 19);
  return `${local}.${fraction}${zoneSuffix(offsetMinutes)}`;
}

/** A Unix time in seconds in the local time zone as Go's time.RFC3339: "2026-11-30T10:49:24Z". */
export function rfc3339(unixSeconds: number): string {
  const offsetMinutes = -new Date(unixSeconds * 1000).getTimezoneOffset();
  return `${new Date((unixSeconds + offsetMinutes * 60) * 1000).toISOString().slice(0, 19)}${zoneSuffix(offsetMinutes)}`;
}

function zoneSuffix(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'Z';
  const sign = offsetMinutes < 0 ? '-' : '+';
  const minutes = Math.abs(offsetMinutes);
  return `${sign}${String(Math.trunc(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
