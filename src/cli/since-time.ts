/**
 * `--since`/`--until` values as the docker CLI turns them into API timestamps: Unix seconds pass
 * through, Go durations ("10m", "1h30m") count back from now, RFC 3339 dates are converted.
 */
const DURATION = /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("1h30m", "500ms", "-2s", "0") in milliseconds; undefined if it is not one. */
export function goDurationMs(value: string): number | undefined {
  const sign = value.startsWith('-') ? -1 : 1;
  const body = value.replace(/^[-+]/, '');
  if (body === '0') return 0;
  if (!DURATION.test(body)) return undefined;
  let milliseconds = 0;
  for (const [, amount, unit] of body.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    milliseconds += Number(amount) * UNIT_MS[unit!]!;
  }
  return sign * milliseconds;
}

export function apiTimestamp(value: string, now: Date = new Date()): string {
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  const milliseconds = DURATION.test(value) ? goDurationMs(value) : undefined;
  if (milliseconds !== undefined) return toSeconds(now.getTime() - milliseconds);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new Error(`invalid value for "since": "${value}" is neither a timestamp nor a duration`);
  return toSeconds(parsed);
}

const toSeconds = (milliseconds: number) => (milliseconds / 1000).toFixed(9).replace(/\.?0+$/, '');
