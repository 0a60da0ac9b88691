/**
 * The cache key of a build step, as Docker's classic builder finds a cached step: the parent
 * image and the step's probe config (the image config with the step's own command in Cmd:
 * the `#(nop)` comment of a config-only step, `COPY <source hash> in <dest>` for a copy, the
 * command with its build args for RUN). Two steps with the same key make the same image, so a
 * rebuild with nothing changed takes every step from the cache, and a changed file changes the
 * key of the first step that copies it and, through the parent, of every step after.
 */
import { createHash } from 'node:crypto';
import type { RunConfig } from './stage-evaluator.js';

// Bumped whenever what a key covers changes, so an old cache is never taken for a new one.
const KEY_VERSION = 'berth-build-cache-v1';

/** JSON with object keys sorted and undefined left out: the same config always gives the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonical(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * `sha256:<hex>` naming the step `probe` taken on top of `parentImageId` ('' for scratch).
 * `script`: the body of a RUN's `#!` heredoc, which the probe names only by its path.
 */
export function stepCacheKey(parentImageId: string, probe: RunConfig, platform = '', script?: string): string {
  const text = canonical({ version: KEY_VERSION, parent: parentImageId, platform, config: probe, script });
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
