/**
 * .dockerignore, exactly as moby's patternmatcher and ignorefile: lines read with comments
 * (`#` in column one) and blanks dropped, patterns cleaned and made relative; a pattern matches
 * a path or any of its parent directories (so `dir` excludes everything below it); `*`, `?` and
 * `[…]` stay within one path element, `**` spans any number of them; a later `!pattern` brings
 * back what an earlier one excluded.
 */
import { goClean, goDir } from '../../archive/go-paths.js';
import { invalidParameter } from '../../common/errors.js';
import { BadPatternError, goMatch } from './go-match.js';

/** The patterns of a .dockerignore file (moby's ignorefile.ReadAll). */
export function readDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.replace(/^\ufeff/, '').split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

class Pattern {
  readonly dirs: string[];
  private type: MatchType = 'exact';
  private regexp: RegExp | undefined;

  constructor(
    readonly cleaned: string,
    readonly exclusion: boolean,
  ) {
    this.dirs = cleaned.split('/');
    this.compile();
  }

  match(path: string): boolean {
    switch (this.type) {
      case 'exact':
        return path === this.cleaned;
      case 'prefix':
        // `dir/**`: everything under dir.
        return path.startsWith(this.cleaned.slice(0, -2));
      case 'suffix': {
        // `**/name`: name at any depth.
        const suffix = this.cleaned.slice(2);
        return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
      }
      case 'regexp':
        return this.regexp!.test(path);
    }
  }

  /** patternmatcher's compile: the cheap match types where they suffice, else a regular expression. */
  private compile(): void {
    let regexp = '^';
    let type: MatchType = 'exact';
    const chars = Array.from(this.cleaned);
    for (let i = 0; i < chars.length; i++) {
      const start = i;
      const ch = chars[i]!;
      if (ch === '*') {
        if (chars[i + 1] === '*') {
          i++;
          if (chars[i + 1] === '/') i++;
          if (i + 1 >= chars.length) {
            if (type === 'exact') type = 'prefix';
            else {
              regexp += '.*';
              type = 'regexp';
            }
          } else {
            regexp += '(.*/)?';
            type = 'regexp';
          }
          if (start === 0) type = 'suffix';
        } else {
          regexp += '[^/]*';
          type = 'regexp';
        }
      } else if (ch === '?') {
        regexp += '[^/]';
        type = 'regexp';
      } else if ('.+()|{}$'.includes(ch)) {
        regexp += `\\${ch}`;
      } else if (ch === '\\') {
        if (i + 1 < chars.length) {
          i++;
          regexp += `\\${chars[i]}`;
          type = 'regexp';
        } else {
          regexp += '\\\\';
        }
      } else if (ch === '[' || ch === ']') {
        regexp += ch;
        type = 'regexp';
      } else {
        regexp += ch;
      }
    }
    if (type === 'regexp') this.regexp = new RegExp(`${regexp}$`);
    this.type = type;
  }
}

/** Per-pattern results for a directory, so its entries need not look at its parents again. */
export type ParentMatches = readonly boolean[];

export class PatternMatcher {
  private readonly patterns: Pattern[] = [];
  /** Whether any `!` pattern exists (a walker may then not skip an excluded directory). */
  readonly exclusions: boolean;

  constructor(patterns: readonly string[]) {
    let exclusions = false;
    for (const raw of patterns) {
      let text = raw.trim();
      if (text === '') continue;
      text = goClean(text);
      let exclusion = false;
      if (text.startsWith('!')) {
        if (text.length === 1) throw invalidParameter('illegal exclusion pattern: "!"');
        exclusion = true;
        exclusions = true;
        text = text.slice(1);
      }
      try {
        goMatch(text, '.');
      } catch (err) {
        if (err instanceof BadPatternError) throw invalidParameter(`syntax error in pattern: ${raw}`);
        throw err;
      }
      this.patterns.push(new Pattern(text, exclusion));
    }
    this.exclusions = exclusions;
  }

  /**
   * Whether `file` (a clean path relative to the context) is excluded. A pattern also matches
   * when it matches the parent directory of as many elements as it has (moby's Matches).
   */
  matches(file: string): boolean {
    return this.matchesWithParents(file, false);
  }

  /** As matches, but any ancestor matching a pattern counts (what the daemon checks on the Dockerfile). */
  matchesOrParentMatches(file: string): boolean {
    return this.matchesWithParents(file, true);
  }

  private matchesWithParents(file: string, anyAncestor: boolean): boolean {
    const parent = parentOf(file);
    const parentDirs = parent.split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(file);
      if (!match && parent !== '.') {
        if (anyAncestor) {
          for (let i = 0; !match && i < parentDirs.length; i++) match = pattern.match(parentDirs.slice(0, i + 1).join('/'));
        } else if (pattern.dirs.length <= parentDirs.length) {
          match = pattern.match(parentDirs.slice(0, pattern.dirs.length).join('/'));
        }
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * The walker's form (moby's MatchesUsingParentResults): `parent` holds each pattern's result
   * for the entry's directory (undefined at the top), so a directory's match carries to all
   * below it. Returns the entry's result and what its own children should pass.
   */
  matchesUsingParentResults(file: string, parent?: ParentMatches): { excluded: boolean; matches: ParentMatches } {
    let excluded = false;
    const matches: boolean[] = [];
    for (const [i, pattern] of this.patterns.entries()) {
      let match = parent?.[i] ?? false;
      if (!match) {
        if (pattern.exclusion !== excluded) {
          matches.push(false);
          continue;
        }
        match = pattern.match(file);
        const parentPath = parentOf(file);
        if (!match && parent === undefined && parentPath !== '.') {
          const dirs = parentPath.split('/');
          for (let d = 0; !match && d < dirs.length; d++) match = pattern.match(dirs.slice(0, d + 1).join('/'));
        }
      }
      matches.push(match);
      if (match) excluded = !pattern.exclusion;
    }
    return { excluded, matches };
  }
}

/** Go's filepath.Dir: `a/b/` has the parent `a/b`. */
const parentOf = (file: string): string => goDir(file);
