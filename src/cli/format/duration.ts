import { humanDuration } from '../../common/human-duration.js';

/** "9 seconds ago" for a Unix time in seconds, as the API gives `Created`. */
export function timeAgo(unixSeconds: number, now: Date = new Date()): string {
  return `${humanDuration(now.getTime() - unixSeconds * 1000)} ago`;
}

/** A Unix time as Go's time.Time prints it in UTC: "2026-11-23 17:43:00 +0000 UTC". */
export function goTime(unixSeconds: number): string {
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}
