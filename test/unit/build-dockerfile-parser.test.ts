/**
 * The Dockerfile parser against moby's own parser cases (test/fixtures/build/testfiles: each a
 * Dockerfile and the AST dump buildkit's parser makes of it), its negative cases, its line
 * numbers, and heredocs as buildkit's parser_heredoc_test reads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDockerfile, warningLines, type DockerfileNode } from '../../src/engine/build/dockerfile-parser.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/build');

/** Go's strconv.Quote, as the dumps were written with it. */
function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (ch === '\x07') out += '\\a';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** buildkit's Node.Dump of one instruction. */
function dump(node: DockerfileNode): string {
  let out = node.keyword.toLowerCase();
  if (node.flags.length > 0) out += ` [${node.flags.map(goQuote).join(' ')}]`;
  if (node.child) return `${out} (${dump(node.child)})`;
  for (const arg of node.args) out += ` ${goQuote(arg)}`;
  return out;
}

for (const dir of readdirSync(join(FIXTURES, 'testfiles')).sort()) {
  test(`moby parser case ${dir}`, () => {
    const text = readFileSync(join(FIXTURES, 'testfiles', dir, 'Dockerfile'), 'utf8');
    const expected = readFileSync(join(FIXTURES, 'testfiles', dir, 'result'), 'utf8');
    const parsed = parseDockerfile(text);
    assert.equal(parsed.nodes.map((node) => `(${dump(node)})\n`).join(''), expected);
  });
}

for (const dir of readdirSync(join(FIXTURES, 'testfiles-negative')).sort()) {
  test(`moby parser negative case ${dir}`, () => {
    const text = readFileSync(join(FIXTURES, 'testfiles-negative', dir, 'Dockerfile'), 'utf8');
    assert.throws(() => parseDockerfile(text), /dockerfile parse error on line \d+: /);
  });
}

test('line numbers of instructions spanning continuations, comments and blank lines', () => {
  const parsed = parseDockerfile(readFileSync(join(FIXTURES, 'testfile-line/Dockerfile'), 'utf8'));
  assert.deepEqual(
    parsed.nodes.map((node) => [node.startLine, node.endLine]),
    [
      [5, 5],
      [11, 12],
      [17, 31],
    ],
  );
});

test('an empty continuation line is a warning, as Docker prints it', () => {
  const parsed = parseDockerfile('FROM busybox\nRUN echo a \\\n\n  && echo b\n');
  assert.deepEqual(parsed.warnings, ['Empty continuation line found in: RUN echo a   && echo b']);
  assert.equal(parsed.nodes[1]!.original, 'RUN echo a   && echo b');
  assert.deepEqual(warningLines(parsed.warnings), [
    '[WARNING]: Empty continuation line found in: RUN echo a   && echo b',
    '[WARNING]: Empty continuation lines will become errors in a future release.',
  ]);
  assert.deepEqual(warningLines([]), []);
});

test('directives: escape changes the continuation token, syntax is recorded, a repeat is an error', () => {
  const parsed = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n  b\\c\n');
  assert.equal(parsed.escapeToken, '`');
  assert.deepEqual(parsed.directives, { syntax: 'docker/dockerfile:1', escape: '`' });
  assert.equal(parsed.nodes[1]!.args[0], 'echo a   b\\c');
  assert.throws(() => parseDockerfile('# escape=`\n# escape=\\\nFROM x\n'), /line 2: only one escape parser directive can be used/);
  assert.throws(() => parseDockerfile('# escape=x\nFROM x\n'), /line 1: invalid escape token 'x' does not match ` or \\/);
  // After any other line, a directive is only a comment.
  assert.equal(parseDockerfile('FROM x\n# escape=`\nRUN a \\\n b\n').escapeToken, '\\');
});

test('a byte order mark and CRLF line endings', () => {
  const parsed = parseDockerfile('\ufeffFROM busybox\r\nCMD ["sh"]\r\n');
  assert.equal(parsed.nodes[0]!.keyword, 'FROM');
  assert.deepEqual(parsed.nodes[1]!.args, ['sh']);
});

test('JSON arrays: exec form, a non-string element is an error naming the line', () => {
  const parsed = parseDockerfile('FROM x\nCMD ["a", "b c"]\nCMD [ "not json\nVOLUME ["/a", "/b"]\n');
  assert.equal(parsed.nodes[1]!.json, true);
  assert.deepEqual(parsed.nodes[1]!.args, ['a', 'b c']);
  assert.equal(parsed.nodes[2]!.json, false);
  assert.deepEqual(parsed.nodes[2]!.args, ['[ "not json']);
  assert.deepEqual(parsed.nodes[3]!.args, ['/a', '/b']);
  assert.throws(() => parseDockerfile('FROM x\n\nCMD ["a", 1]\n'), {
    message: 'dockerfile parse error on line 3: when using JSON array syntax, arrays must be comprised of strings only',
  });
});

test('heredocs: names, quoting, chomping, fd, several on one line, under ONBUILD', () => {
  const text = [
    'FROM busybox',
    'RUN <<EOF',
    'echo $HOME',
    'EOF',
    'COPY <<-"EOT" 3<<two /dest/',
    '\thello',
    '\tEOT',
    'second',
    'two',
    'ONBUILD RUN <<X',
    'inner',
    'X',
    'RUN ["echo", "<<EOF"]',
    '',
  ].join('\n');
  const parsed = parseDockerfile(text);
  const [, run, copy, onbuild, json] = parsed.nodes;
  assert.deepEqual(run!.heredocs, [{ name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: 'echo $HOME\n' }]);
  assert.deepEqual([run!.startLine, run!.endLine], [2, 4]);
  assert.deepEqual(copy!.heredocs, [
    { name: 'EOT', fileDescriptor: 0, expand: false, chomp: true, content: '\thello\n' },
    { name: 'two', fileDescriptor: 3, expand: true, chomp: false, content: 'second\n' },
  ]);
  assert.deepEqual(copy!.args, ['<<-"EOT"', '3<<two', '/dest/']);
  assert.equal(onbuild!.heredocs[0]!.content, 'inner\n');
  assert.deepEqual(json!.heredocs, []);
  assert.throws(() => parseDockerfile('FROM x\nRUN <<EOF\necho\n'), /line 2: unterminated heredoc/);
});

test('a file of comments only has no instructions', () => {
  assert.throws(() => parseDockerfile('# just a comment\n\n'), /file with no instructions/);
  assert.throws(() => parseDockerfile(''), /file with no instructions/);
});

test("heredocs of buildkit's TestParseExtractsHeredoc (fixture heredocs.Dockerfile)", () => {
  const parsed = parseDockerfile(readFileSync(join(FIXTURES, 'heredocs.Dockerfile'), 'utf8'));
  // [name, content, expand, chomp, fd] per heredoc, for each instruction after FROM.
  type H = [string, string, boolean, boolean?, number?];
  const expected: Array<H[]> = [
    [], // ENV NAME=me
    [], // RUN ls
    [], // USER <<INVALID
    [], // INVALID
    [['EMPTY', '', true]],
    [['EMPTY2', '', true, false, 3]],
    [], // RUN "<<NOHEREDOC"
    [['INDENT', '\tfoo\n\tbar\n', true]],
    [['UNINDENT', '\tbaz\n\tquux\n', true, true]],
    [['UNINDENT2', '\tbaz\n\tquux\n', true, true]],
    [['EXPAND', '\texpand $NAME\n', true, true]],
    [['NOEXPAND', "\tdon't expand $NAME\n", false, true]],
    [['COPY', 'echo hello world\necho foo bar\n', true]],
    [['COMMENT', '# internal comment\necho hello world\necho foo bar # trailing comment\n', true]],
    [['MOUNT', 'echo hello\n', true]],
    [
      ['FILE1', 'content 1\n', true],
      ['FILE2', 'content 2\n', true],
    ],
    [['EOF', '"foo"\n\'bar\'\n', true]],
    [
      ['X', 'Y\n', true],
      ['Y', 'X\n', true],
    ],
    [['COMPLEX', "print('hello world')\n", true]],
    [['file.txt', 'hello world\n', true]],
    [['eof', 'echo foo\n', false]],
    [["eo'f", 'echo foo\n', true]],
    [["eo'f", 'echo foo\n', false]],
    [['one two', 'echo bar\n', false]],
    [['$EOF', '', true]],
    [['EOF', '', true]],
    [['EOF', '', true]],
  ];
  assert.equal(parsed.nodes.length, expected.length + 1);
  expected.forEach((heredocs, i) => {
    const actual = parsed.nodes[i + 1]!.heredocs.map((h): H => [h.name, h.content, h.expand, h.chomp, h.fileDescriptor]);
    assert.deepEqual(
      actual,
      heredocs.map(([name, content, expand, chomp = false, fd = 0]): H => [name, content, expand, chomp, fd]),
      parsed.nodes[i + 1]!.original,
    );
  });
});
