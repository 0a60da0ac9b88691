/**
 * Points in time written as Docker's users write them (moby's timetypes.GetTimestamp), for
 * `since`/`until` parameters and `until` filters: a Go duration ("10m", "1h30m") counts back from
 * now, Unix seconds may carry a fraction, and RFC 3339 dates or date-times are converted.
 */
const DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const UNIX = /^(-?\d+)(?:\.(\d{1,9}))?$/;
const DATE = /^\d{4}-\d\d-\d\d(?:[Tt ][\d:.]+)?(?:[Zz]|[+-]\d\d:?\d\d)?$/;

function durationNanos(value: string): number {
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(amount) * UNIT_NS[unit];
  return value.startsWith('-') ? -total : total;
}

/** Nanoseconds since the epoch, or undefined when `value` is no time Docker would accept. */
export function goTimestamp(value: string, nowMs: number = Date.now()): bigint | undefined {
  if (value !== '0' && DURATION.test(value)) return BigInt(nowMs) * 1_000_000n - BigInt(Math.round(durationNanos(value)));
  const unix = value.match(UNIX);
  if (unix) {
    const fraction = BigInt((unix[2] ?? '').padEnd(9, '0'));
    return BigInt(unix[1]) * 1_000_000_000n + (unix[1].startsWith('-') ? -fraction : fraction);
  }
  if (!DATE.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n;
}
