import { invalidParameter } from '../common/errors.js';
import type { Query } from './http.js';

/** `filters` as clients send it: {"key": ["v1", …]} or the older {"key": {"v1": true}}. */
export type Filters = Record<string, string[] | Record<string, boolean>>;

/** Parses the `filters` parameter, refusing keys the endpoint does not know, as dockerd does. */
export function parseFilters(query: Query, known: readonly string[]): Filters {
  const filters = query.json<Filters>('filters') ?? {};
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters)) {
    throw invalidParameter('invalid filters: expected a JSON object');
  }
  for (const key of Object.keys(filters)) {
    if (!known.includes(key)) throw invalidParameter(`invalid filter '${key}'`);
  }
  return filters;
}

export function filterValues(filters: Filters, key: string): string[] {
  const value = filters[key];
  if (!value) return [];
  return Array.isArray(value) ? value : Object.keys(value).filter((k) => value[k]);
}

/**
 * A boolean filter (`dangling`), as moby's GetBoolOrDefault: true/1 or false/0, one value only;
 * undefined when absent.
 */
export function boolFilter(filters: Filters, key: string): boolean | undefined {
  const values = filterValues(filters, key);
  if (values.length === 0) return undefined;
  const parsed = new Set(
    values.map((value) => {
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw invalidParameter(`invalid filter '${key}=${value}'`);
    }),
  );
  if (parsed.size > 1) throw invalidParameter(`invalid filter '${key}': conflicting values`);
  return [...parsed][0];
}

/** Every `label` filter ("key" or "key=value") must hold. */
export function labelsMatch(labels: Record<string, string> | null | undefined, wanted: string[]): boolean {
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
