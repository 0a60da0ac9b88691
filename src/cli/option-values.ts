/** Parsers for flag values, in the shapes commander's option callbacks take. */
import { InvalidArgumentError } from 'commander';
import { CliExit } from './cli-exit.js';

/** For repeatable flags (`-e A -e B`): each use appends. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError(`invalid integer "${value}"`);
  return parsed;
}

/** `-f key=value` options, repeated, as the API's filters ({"key": ["value", …]}). */
export function filterOptions(values: string[] | undefined): Record<string, string[]> | undefined {
  if (!values || values.length === 0) return undefined;
  const filters: Record<string, string[]> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new CliExit(1, `Error: bad format of filter (expected name=value)`);
    (filters[value.slice(0, eq)] ??= []).push(value.slice(eq + 1));
  }
  return filters;
}
