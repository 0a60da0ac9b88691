import { humanDuration } from '../../common/human-duration.js';

/** "9 seconds ago" for a Unix time in seconds, as the API gives `Created`. */
export function timeAgo(unixSeconds: number, now: Date = new Date()): string {
  return `${humanDuration(now.getTime() - unixSeconds * 1000)} ago`;
}
