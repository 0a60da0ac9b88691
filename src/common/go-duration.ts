/** Go's time.Duration as text: ParseDuration ("1h30m", "500ms", "-2s", "0") and String(). */

const DURATION = /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds; undefined if the text is not a duration. */
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

/** Go's Duration.String() of nanoseconds: "30s", "1.5s", "500ms", "1m0s", "1h0m0s". */
export function goDuration(ns: number): string {
  const trim = (n: number) => String(Number(n.toFixed(9)));
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  const hours = Math.floor(ns / 3.6e12);
  const minutes = Math.floor((ns % 3.6e12) / 6e10);
  const seconds = (ns % 6e10) / 1e9;
  return `${hours ? `${hours}h` : ''}${hours || minutes ? `${minutes}m` : ''}${trim(seconds)}s`;
}
