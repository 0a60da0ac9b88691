/**
 * Variable substitution and word splitting against moby's own lexer cases
 * (test/fixtures/build/envVarTest and wordsTest, from buildkit's frontend/dockerfile/shell).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envFromList, ShellLex } from '../../src/engine/build/shell-lex.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/build');

test('moby envVarTest: every Unix case', () => {
  const lex = new ShellLex('\\');
  const env = envFromList(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);
  let cases = 0;
  for (const [i, raw] of readFileSync(join(FIXTURES, 'envVarTest'), 'utf8').split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || raw.startsWith('#')) continue;
    const [platform, source, expected] = line.split('|').map((part) => part.trim());
    if (platform === 'W') continue;
    cases++;
    if (expected === 'error') {
      assert.throws(() => lex.processWord(source!, env), /failed to process/, `line ${i + 1}: ${source}`);
    } else {
      assert.equal(lex.processWord(source!, env), expected, `line ${i + 1}: ${source}`);
    }
  }
  assert.ok(cases > 200);
});

test('moby wordsTest, plain and with raw quotes and unset variables kept', () => {
  const lines = readFileSync(join(FIXTURES, 'wordsTest'), 'utf8').split('\n');
  // As the Go test, the second mode reads what the first left of the file: nothing.
  const envs: string[] = [];
  const lex = new ShellLex('\\');
  for (const [i, line] of lines.entries()) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('ENV ')) {
      envs.push(line.slice(3).replace(/^ +/, ''));
      continue;
    }
    const [source, result] = line.split('|');
    const expected = result!.replace(/^ +/, '').split(',');
    let words: string[];
    try {
      words = lex.processWords(source!.trim(), envFromList(envs));
    } catch {
      words = ['error'];
    }
    assert.deepEqual(words, expected, `line ${i + 1}: ${source}`);
  }
});

test('required variables, defaults, alternatives and the pattern modifiers', () => {
  const lex = new ShellLex('\\');
  const env = envFromList(['VAR=plain', 'EMPTY=', 'PATHISH=/usr/local/bin/tool.tar.gz']);
  assert.equal(lex.processWord('${VAR:?message}', env), 'plain');
  assert.throws(() => lex.processWord('${EMPTY:?must be set$VAR}', env), /EMPTY: must be setplain/);
  assert.equal(lex.processWord('${EMPTY?x}', env), '');
  assert.throws(() => lex.processWord('${UNSET?}', env), /UNSET: is not allowed to be unset/);
  assert.equal(lex.processWord('${EMPTY:-d}|${EMPTY-d}|${UNSET-d}', env), 'd||d');
  assert.equal(lex.processWord('${VAR:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${UNSET+alt}', env), 'alt||alt|');
  assert.equal(lex.processWord('${PATHISH#*/}|${PATHISH##*/}', env), 'usr/local/bin/tool.tar.gz|tool.tar.gz');
  assert.equal(lex.processWord('${PATHISH%.*}|${PATHISH%%.*}', env), '/usr/local/bin/tool.tar|/usr/local/bin/tool');
  assert.equal(lex.processWord('${PATHISH/o/0}|${PATHISH//o/0}', env), '/usr/l0cal/bin/tool.tar.gz|/usr/l0cal/bin/t00l.tar.gz');
  assert.throws(() => lex.processWord('${VAR:#x}', env), /unsupported modifier \(:#\) in substitution/);
  assert.throws(() => lex.processWord('${VAR', env), /failed to process "\$\{VAR": syntax error: missing '}'/);
});

test('the backtick escape token of `# escape=`', () => {
  const lex = new ShellLex('`');
  const env = envFromList(['A=1']);
  assert.equal(lex.processWord('C:\\dir`$A$A', env), 'C:\\dir$A1');
  assert.equal(lex.processWord('"a`"b"', env), 'a"b');
});
