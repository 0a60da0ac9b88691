/**
 * Dockerfile text → a list of instruction nodes, as Docker's parser (buildkit
 * frontend/dockerfile/parser): the `# escape=` / `# syntax=` / `# check=` directives at the top,
 * comments, line continuations with the escape token (comment and empty lines inside a
 * continuation skipped), instruction flags (`--from=…`), each instruction's own argument
 * syntax (JSON arrays, `key=value` pairs, whitespace lists, whole strings) and heredocs
 * (`RUN <<EOF`, `COPY <<EOF /file`).
 *
 * Nodes carry what the instruction parser needs (instructions.ts); nothing is expanded here.
 */
import { invalidParameter } from '../../common/errors.js';
import { lineArguments, scanWords, type LineArguments } from './dockerfile-line-args.js';
import { parseHeredocWord, type Heredoc } from './heredoc.js';
import { isGoSpace, ShellLex } from './shell-lex.js';

export type { Heredoc } from './heredoc.js';

export interface DockerfileNode {
  /** The instruction as written (`run`, `RUN`, `Run`…); unknown ones are kept and refused later. */
  keyword: string;
  /** `--name=value` words before the arguments. */
  flags: string[];
  /** The arguments as the instruction's line parser split them (see dockerfile-line-args.ts). */
  args: string[];
  /** Whether the arguments were a JSON array (exec form). */
  json: boolean;
  /** For ONBUILD: the instruction it carries. */
  child?: DockerfileNode;
  heredocs: Heredoc[];
  /** The instruction's text with continuations joined and comments dropped. */
  original: string;
  startLine: number;
  endLine: number;
}

export interface ParsedDockerfile {
  nodes: DockerfileNode[];
  /** `\` or the backtick chosen by `# escape=`. */
  escapeToken: string;
  /** Directives found at the top (`syntax`, `escape`, `check`), lower-case names. */
  directives: Record<string, string>;
  /** Docker's parser warnings (empty continuation lines), one line each. */
  warnings: string[];
}

/** The lines Docker prints for the parser's warnings before a build. */
export function warningLines(warnings: readonly string[]): string[] {
  if (warnings.length === 0) return [];
  return [...warnings.map((warning) => `[WARNING]: ${warning}`), '[WARNING]: Empty continuation lines will become errors in a future release.'];
}

/** A parse error Docker's way: the line it is on and what was wrong. */
export function parseError(line: number, message: string) {
  return invalidParameter(`dockerfile parse error on line ${line}: ${message}`);
}

const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const HEREDOC_INSTRUCTIONS = new Set(['add', 'copy', 'run']);

/** The lines of `text` with their line endings kept (bufio.Scanner with buildkit's scanLines). */
function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  if (lines.length > 0 && lines[0]!.charCodeAt(0) === 0xfeff) lines[0] = lines[0]!.slice(1);
  return lines;
}

const trimNewline = (line: string) => line.replace(/[\r\n]+$/, '');
const trimLeadingSpace = (line: string) => {
  let i = 0;
  while (i < line.length && isGoSpace(line[i]!)) i++;
  return line.slice(i);
};
const isComment = (line: string) => trimLeadingSpace(line).startsWith('#');

/** The directive state of one parse: which were seen, whether they may still come, the escape token. */
class Directives {
  escapeToken = '\\';
  continuation = continuationPattern('\\');
  readonly found: Record<string, string> = {};
  private done = false;

  /** Looks for `# name=value` before any other line; returns whether `line` was one. */
  check(line: string, lineNumber: number): boolean {
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const match = DIRECTIVE.exec(trimLeadingSpace(line.slice(1)));
    const name = match?.[1]!.toLowerCase();
    if (!match || !VALID_DIRECTIVES.has(name!)) {
      this.done = true;
      return false;
    }
    if (name! in this.found) throw parseError(lineNumber, `only one ${name} parser directive can be used`);
    const value = match[2]!;
    this.found[name!] = value;
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') throw parseError(lineNumber, `invalid escape token '${value}' does not match \` or \\`);
      this.escapeToken = value;
      this.continuation = continuationPattern(value);
    }
    return true;
  }
}

/**
 * The escape token as the last non-blank character continues the line, unless another escape
 * token precedes it (a token alone on its line continues too).
 */
function continuationPattern(token: string): RegExp {
  const t = `\\${token}`;
  return new RegExp(`([^${t}])${t}[ \\t]*$|^${t}[ \\t]*$`);
}

function trimContinuation(line: string, directives: Directives): { line: string; ends: boolean } {
  const re = directives.continuation;
  if (!re.test(line)) return { line, ends: true };
  return { line: line.replace(re, '$1'), ends: false };
}

/** Parses a whole Dockerfile. Throws invalid-parameter errors naming the line. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = splitLines(text);
  const directives = new Directives();
  const nodes: DockerfileNode[] = [];
  const warnings: string[] = [];
  let index = 0;

  while (index < lines.length) {
    const lineNumber = index + 1;
    let first = trimLeadingSpace(trimNewline(lines[index]!));
    directives.check(first, lineNumber);
    if (isComment(first)) first = '';
    index++;
    const startLine = index;
    let { line: joined, ends } = trimContinuation(first, directives);
    if (ends && joined.length === 0) continue;

    let emptyContinuation = false;
    while (!ends && index < lines.length) {
      const raw = lines[index]!;
      const line = trimNewline(raw);
      directives.check(line, index + 1);
      index++;
      if (isComment(raw)) continue;
      if (trimLeadingSpace(line).length === 0) {
        emptyContinuation = true;
        continue;
      }
      const trimmed = trimContinuation(line, directives);
      ends = trimmed.ends;
      joined += trimmed.line;
    }
    if (emptyContinuation) warnings.push(`Empty continuation line found in: ${joined}`);

    const node = nodeFromLine(joined, directives.escapeToken, startLine, index);
    if (canContainHeredoc(node) && joined.includes('<<')) {
      index = readHeredocs(node, heredocsOfLine(joined, startLine), lines, index, startLine);
    }
    node.endLine = index;
    nodes.push(node);
  }
  if (nodes.length === 0) throw parseError(Math.max(lines.length, 1), 'file with no instructions');
  return { nodes, escapeToken: directives.escapeToken, directives: directives.found, warnings };
}

/** Splits `KEYWORD --flag=x args` and hands the arguments to the keyword's own line parser. */
function nodeFromLine(line: string, escapeToken: string, startLine: number, endLine: number): DockerfileNode {
  const trimmed = line.trim();
  const split = /[\t\v\f\r ]+/.exec(trimmed);
  const keyword = split ? trimmed.slice(0, split.index) : trimmed;
  let rest = '';
  let flags: string[] = [];
  if (split) {
    const extracted = scanWords(trimmed.slice(split.index + split[0].length), escapeToken, true);
    rest = extracted.rest.trim();
    flags = extracted.words;
  }
  let parsed: LineArguments;
  let child: DockerfileNode | undefined;
  try {
    if (keyword.toLowerCase() === 'onbuild') {
      child = rest === '' ? undefined : nodeFromLine(rest, escapeToken, startLine, endLine);
      parsed = { args: child ? [child.keyword, ...child.args] : [], json: false };
    } else {
      parsed = lineArguments(keyword.toLowerCase(), rest, escapeToken);
    }
  } catch (err) {
    throw parseError(startLine, (err as Error).message);
  }
  return { keyword, flags, args: parsed.args, json: parsed.json, child, heredocs: [], original: line, startLine, endLine };
}

/** RUN, COPY and ADD in shell form (directly or under ONBUILD) may carry heredocs. */
function canContainHeredoc(node: DockerfileNode): boolean {
  const target = node.keyword.toLowerCase() === 'onbuild' && node.child ? node.child : node;
  return HEREDOC_INSTRUCTIONS.has(target.keyword.toLowerCase()) && !target.json;
}

/** The heredoc words of an instruction line, in order (`<<EOF`, `<<-"EOT"`, `3<<X`). */
function heredocsOfLine(line: string, startLine: number): Heredoc[] {
  const lex = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  let words: string[];
  try {
    words = lex.processWords(line, { get: () => undefined });
  } catch {
    return []; // as Docker: a line the lexer cannot split has no heredocs
  }
  const heredocs: Heredoc[] = [];
  for (const word of words) {
    try {
      const heredoc = parseHeredocWord(word);
      if (heredoc) heredocs.push(heredoc);
    } catch (err) {
      throw parseError(startLine, (err as Error).message);
    }
  }
  return heredocs;
}

/** Reads each heredoc's body up to its terminator line; returns the index of the next line. */
function readHeredocs(node: DockerfileNode, heredocs: Heredoc[], lines: string[], from: number, startLine: number): number {
  let index = from;
  for (const heredoc of heredocs) {
    let content = '';
    let terminated = false;
    while (index < lines.length) {
      const raw = lines[index++]!;
      let candidate = trimNewline(raw);
      if (heredoc.chomp) candidate = candidate.replace(/^\t+/, '');
      if (candidate === heredoc.name) {
        terminated = true;
        break;
      }
      content += raw;
    }
    if (!terminated) throw parseError(startLine, 'unterminated heredoc');
    node.heredocs.push({ ...heredoc, content });
  }
  return index;
}
