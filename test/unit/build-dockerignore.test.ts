/**
 * .dockerignore matching against moby/patternmatcher's own cases (fixture copied from its
 * patternmatcher_test.go, including Go's filepath.Match table), and ignorefile's reading rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PatternMatcher, readDockerignore, type ParentMatches } from '../../src/engine/build/dockerignore.js';
import { goClean, goDir } from '../../src/archive/go-paths.js';
import { BadPatternError, containsWildcards, goMatch } from '../../src/engine/build/go-match.js';

const CASES = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/build/patternmatcher-cases.json'), 'utf8'),
) as {
  matches: Array<[string, string, boolean]>;
  multiPattern: Array<[string[], string, boolean]>;
  filepathMatch: Array<[string, string, boolean, boolean]>;
};

/** What the context walker does: each parent directory's results carried down. */
function walkerResult(matcher: PatternMatcher, text: string): boolean {
  const parent = goDir(text);
  let parentMatches: ParentMatches | undefined;
  if (parent !== '.') {
    const dirs = parent.split('/');
    for (let i = 0; i < dirs.length; i++) parentMatches = matcher.matchesUsingParentResults(dirs.slice(0, i + 1).join('/'), parentMatches).matches;
  }
  return matcher.matchesUsingParentResults(text, parentMatches).excluded;
}

test('patternmatcher TestMatches: MatchesOrParentMatches, the walker form and the form without context', () => {
  const all: Array<[string[], string, boolean]> = [...CASES.matches.map(([p, t, pass]): [string[], string, boolean] => [[p], t, pass]), ...CASES.multiPattern];
  assert.ok(all.length > 70);
  for (const [patterns, text, pass] of all) {
    const matcher = new PatternMatcher(patterns);
    const context = `patterns=${JSON.stringify(patterns)} text=${JSON.stringify(text)}`;
    assert.equal(matcher.matchesOrParentMatches(text), pass, `MatchesOrParentMatches ${context}`);
    assert.equal(walkerResult(matcher, text), pass, `MatchesUsingParentResults ${context}`);
    assert.equal(matcher.matchesUsingParentResults(text).excluded, pass, `no context ${context}`);
  }
});

test("patternmatcher TestMatch (Go's filepath.Match table through Matches), bad patterns included", () => {
  for (const [pattern, name, match, bad] of CASES.filepathMatch) {
    if (bad) assert.throws(() => new PatternMatcher([pattern]), /syntax error in pattern/, pattern);
    else assert.equal(new PatternMatcher([pattern]).matches(goClean(name)), match, `${pattern} ${name}`);
  }
  assert.equal(goMatch('a*', 'ab/c'), false);
  assert.equal(goMatch('a*/b', 'abc/b'), true);
  assert.equal(goMatch('[a-ζ]*', 'α'), true);
  assert.throws(() => goMatch('[x-]', 'z'), BadPatternError);
  assert.throws(() => new PatternMatcher(['[']), /syntax error in pattern/);
  assert.throws(() => new PatternMatcher(['!']), /illegal exclusion pattern: "!"/);
});

test('exceptions, directories and Matches with its parent rule', () => {
  const matcher = new PatternMatcher(readDockerignore('# comment\n*.md\n!README.md\n\n/build\ndocs/**\n!docs/keep\n'));
  assert.equal(matcher.matches('notes.md'), true);
  assert.equal(matcher.matches('README.md'), false);
  assert.equal(matcher.matches('build/out/x.o'), true);
  assert.equal(matcher.matches('docs/a/b'), true);
  assert.equal(matcher.matches('docs/keep'), false);
  assert.equal(matcher.matches('src/a.md'), false, '*.md stays in the top directory');
  assert.equal(matcher.exclusions, true);
});

test('reading .dockerignore: BOM, CRLF, comments only in column one, cleaned and relative', () => {
  assert.deepEqual(readDockerignore('\ufeff#c\r\n  /a/../b/ \r\n ! /x \n #notacomment\n\n./c//d\n'), ['b', '!x', '#notacomment', 'c/d']);
});

test('COPY sources with wildcards, as moby decides it', () => {
  assert.equal(containsWildcards('src/*.go'), true);
  assert.equal(containsWildcards('a[bc]'), true);
  assert.equal(containsWildcards('plain\\*name'), false);
  assert.equal(containsWildcards('file.txt'), false);
});
