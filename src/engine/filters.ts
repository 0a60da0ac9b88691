/**
 * List filters as Docker's filters.Args: each key with its values. The API only decodes the
 * `filters` parameter into this shape; which keys an endpoint knows and what they match is decided
 * here and in the services that list things (containers, images, events).
 */
import { invalidParameter } from '../common/errors.js';

export type Filters = Readonly<Record<string, readonly string[]>>;

/**
 * Decodes the `filters` parameter as clients send it, {"key": ["v1", …]} or the older
 * {"key": {"v1": true}}; with `known`, refuses keys the endpoint does not know, as dockerd does.
 */
export function parseFilters(text: string | undefined, known?: readonly string[]): Filters {
  if (text === undefined || text === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalidParameter(`invalid filter: ${text}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidParameter('invalid filters: expected a JSON object');
  }
  const filters: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) filters[key] = value;
    else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'boolean')) {
      // As moby's Args.Get: every key of the set counts, whatever its boolean says.
      filters[key] = Object.keys(value);
    } else throw invalidParameter(`invalid filter '${key}': expected a list of strings`);
  }
  if (known) checkFilters(filters, known);
  return filters;
}

/** Refuses a key the list does not know: "invalid filter 'colour'". */
export function checkFilters(filters: Filters, known: readonly string[]): void {
  for (const key of Object.keys(filters)) {
    if (!known.includes(key)) throw invalidParameter(`invalid filter '${key}'`);
  }
}

export function filterValues(filters: Filters, key: string): readonly string[] {
  return filters[key] ?? [];
}

/**
 * A boolean filter (`dangling`), as moby's GetBoolOrDefault: undefined when absent; true when
 * "true" or "1" is among the values and neither "false" nor "0" is, false the other way round;
 * anything else (no valid value, or both) is refused.
 */
export function boolFilter(filters: Filters, key: string): boolean | undefined {
  const values = filters[key];
  if (values === undefined) return undefined;
  const isTrue = values.includes('true') || values.includes('1');
  const isFalse = values.includes('false') || values.includes('0');
  if (isTrue === isFalse) throw invalidParameter(`invalid filter '${key}=${values.join(',')}'`);
  return isTrue;
}

/** Every `label` filter ("key" or "key=value") must hold. */
export function labelsMatch(labels: Readonly<Record<string, string>> | null | undefined, wanted: readonly string[]): boolean {
  return wanted.every((label) => {
    const eq = label.indexOf('=');
    const key = eq < 0 ? label : label.slice(0, eq);
    const actual = labels?.[key];
    return actual !== undefined && (eq < 0 || actual === label.slice(eq + 1));
  });
}

/** Go's path.Match: `*` and `?` do not cross a `/`; `[…]` classes. */
export function globMatch(pattern: string, text: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw invalidParameter(`invalid reference filter pattern: ${pattern}`);
      source += `[${pattern.slice(i + 1, end).replace(/^\^|^!/, '^').replace(/\\/g, '\\\\')}]`;
      i = end;
    } else source += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`).test(text);
}

const MATCHES_NOTHING = /(?!)/;

/** `name` filters are regular expressions in dockerd; one that does not compile matches nothing. */
export function regexFilter(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch {
    return MATCHES_NOTHING;
  }
}
