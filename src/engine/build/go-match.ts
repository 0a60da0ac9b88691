/**
 * Go's path/filepath.Match on Linux: `*` (not across '/'), `?`, `[a-z]`, `[^…]`, `\` escapes,
 * and its ErrBadPattern for a malformed pattern even when the name already failed to match.
 * COPY/ADD wildcards and the .dockerignore pattern check follow it exactly.
 */

export class BadPatternError extends Error {
  constructor() {
    super('syntax error in pattern');
  }
}

type Chars = readonly string[];

function scanChunk(pattern: Chars): { star: boolean; chunk: Chars; rest: Chars } {
  let start = 0;
  while (start < pattern.length && pattern[start] === '*') start++;
  const star = start > 0;
  let inRange = false;
  let i = start;
  for (; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      if (i + 1 < pattern.length) i++;
    } else if (ch === '[') {
      inRange = true;
    } else if (ch === ']') {
      inRange = false;
    } else if (ch === '*' && !inRange) {
      break;
    }
  }
  return { star, chunk: pattern.slice(start, i), rest: pattern.slice(i) };
}

function getEsc(chunk: Chars): { rune: string; rest: Chars } {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadPatternError();
  let at = 0;
  if (chunk[0] === '\\') {
    at = 1;
    if (chunk.length === 1) throw new BadPatternError();
  }
  const rest = chunk.slice(at + 1);
  if (rest.length === 0) throw new BadPatternError();
  return { rune: chunk[at]!, rest };
}

/** Matches `chunk` at the start of `s`: the rest of `s`, or undefined. Throws for a bad pattern. */
function matchChunk(chunkIn: Chars, sIn: Chars): Chars | undefined {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const head = chunk[0]!;
    if (head === '[') {
      let r = '';
      if (!failed) {
        r = s[0]!;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk[0] === '^') {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let ranges = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === ']' && ranges > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = getEsc(chunk);
        chunk = lo.rest;
        let hi = lo.rune;
        if (chunk[0] === '-') {
          const high = getEsc(chunk.slice(1));
          hi = high.rune;
          chunk = high.rest;
        }
        const code = r.codePointAt(0) ?? -1;
        if (lo.rune.codePointAt(0)! <= code && code <= hi.codePointAt(0)!) match = true;
        ranges++;
      }
      if (match === negated) failed = true;
    } else if (head === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (head === '\\') {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new BadPatternError();
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  return failed ? undefined : s;
}

/** filepath.Match(pattern, name); throws BadPatternError for a malformed pattern. */
export function goMatch(patternText: string, nameText: string): boolean {
  let pattern: Chars = Array.from(patternText);
  let name: Chars = Array.from(nameText);
  outer: while (pattern.length > 0) {
    const { star, chunk, rest } = scanChunk(pattern);
    pattern = rest;
    if (star && chunk.length === 0) return !name.includes('/');
    let error: unknown;
    let after: Chars | undefined;
    try {
      after = matchChunk(chunk, name);
    } catch (err) {
      error = err;
    }
    if (after !== undefined && (after.length === 0 || pattern.length > 0)) {
      name = after;
      continue;
    }
    if (error) throw error;
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const skipped = matchChunk(chunk, name.slice(i + 1));
        if (skipped !== undefined) {
          if (pattern.length === 0 && skipped.length > 0) continue;
          name = skipped;
          continue outer;
        }
      }
    }
    // No match: the rest of the pattern must still be well-formed.
    while (pattern.length > 0) {
      const next = scanChunk(pattern);
      pattern = next.rest;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return name.length === 0;
}

/** Whether a COPY/ADD source has wildcards (moby's containsWildcards: `\` escapes the next byte). */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}
