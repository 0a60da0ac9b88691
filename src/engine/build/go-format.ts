/**
 * Go's fmt verbs the classic builder writes history with (`CMD %q`, `VOLUME %v`,
 * `HEALTHCHECK %+v`), so `docker history` of a Berth-built image reads as Docker's.
 */
import { goDuration } from '../../common/go-duration.js';
import type { HealthcheckSpec } from './instructions.js';

const NAMED_ESCAPES: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\',
};

/** strconv.Quote: printable characters as they are, the rest escaped. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (NAMED_ESCAPES[ch]) out += NAMED_ESCAPES[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code >= 0x80 && code < 0xa0) out += `\\u00${code.toString(16).padStart(2, '0')}`;
    else if (code === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/** `%q` of a []string: `["a" "b"]`. */
export const goQuoteList = (list: readonly string[] | null | undefined) => `[${(list ?? []).map(goQuote).join(' ')}]`;

/** `%v` of a []string: `[a b]`. */
export const goList = (list: readonly string[] | null | undefined) => `[${(list ?? []).join(' ')}]`;

/** strconv.QuoteRune of a number: `'\x03'`, `'A'`. */
function goQuoteRune(code: number): string {
  const ch = String.fromCodePoint(code);
  if (ch === "'") return "'\\''";
  if (ch === '"') return `'"'`;
  const quoted = goQuote(ch);
  return `'${quoted.slice(1, -1)}'`;
}

/**
 * `%q` of a *HealthConfig, as Docker 28's builder records HEALTHCHECK:
 * `&{["CMD-SHELL" "curl -f http://x/"] "30s" "3s" "0s" "0s" '\x03'}` (durations through their
 * String method, the retry count as a quoted rune).
 */
export function goHealthcheck(health: HealthcheckSpec): string {
  const durations = [health.interval, health.timeout, health.startPeriod, health.startInterval].map((ns) => goQuote(goDuration(ns)));
  return `&{${goQuoteList(health.test)} ${durations.join(' ')} ${goQuoteRune(health.retries)}}`;
}
