/**
 * Each instruction's own argument syntax, as the line parsers of Docker's Dockerfile parser
 * (buildkit frontend/dockerfile/parser/line_parsers.go):
 * - RUN, CMD, ENTRYPOINT, SHELL: a JSON array of strings, else the whole text (shell form);
 * - COPY, ADD, VOLUME: a JSON array of strings, else whitespace-separated words;
 * - FROM, EXPOSE: whitespace-separated words;
 * - ENV, LABEL: `key=value` words (quotes and escapes kept for expansion), or the legacy
 *   `key value…`; each pair becomes three arguments: key, value, and '=' or '' (legacy form);
 * - ARG: words (`name` or `name=value`);
 * - HEALTHCHECK: the type word, then a command as for CMD;
 * - MAINTAINER, USER, WORKDIR, STOPSIGNAL: the whole text.
 * Nothing is expanded here: substitution happens when the builder reaches the instruction.
 */
import { isGoSpace } from './shell-lex.js';

export interface LineArguments {
  args: string[];
  json: boolean;
}

const WHITESPACE = /[\t\v\f\r ]+/;
const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

type LineParser = (rest: string, escapeToken: string) => LineArguments;

const none: LineArguments = { args: [], json: false };

const PARSERS: Record<string, LineParser> = {
  add: maybeJsonToList,
  arg: (rest, escape) => ({ args: words(rest, escape), json: false }),
  cmd: maybeJson,
  copy: maybeJsonToList,
  entrypoint: maybeJson,
  env: (rest, escape) => nameValues(rest, 'ENV', escape),
  expose: whitespaceList,
  from: whitespaceList,
  healthcheck: healthcheck,
  label: (rest, escape) => nameValues(rest, 'LABEL', escape),
  maintainer: wholeString,
  run: maybeJson,
  shell: maybeJson,
  stopsignal: wholeString,
  user: wholeString,
  volume: maybeJsonToList,
  workdir: wholeString,
};

/** The arguments of `keyword` (lower-case); an unknown keyword gets one empty argument, as in Docker. */
export function lineArguments(keyword: string, rest: string, escapeToken: string): LineArguments {
  const parser = PARSERS[keyword];
  return parser ? parser(rest, escapeToken) : { args: [''], json: false };
}

function wholeString(rest: string): LineArguments {
  return rest === '' ? none : { args: [rest], json: false };
}

function whitespaceList(rest: string): LineArguments {
  return rest === '' ? none : { args: rest.split(new RegExp(WHITESPACE, 'g')), json: false };
}

/** A JSON array of strings; undefined when `rest` is not JSON at all; throws for non-strings. */
function jsonArray(rest: string): string[] | undefined {
  const text = rest.replace(/^\s+/u, '');
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((item): item is string => typeof item === 'string')) throw new Error(NOT_STRING_ARRAY);
  return value;
}

function maybeJson(rest: string): LineArguments {
  if (rest === '') return none;
  const array = jsonArray(rest);
  return array ? { args: array, json: true } : { args: [rest], json: false };
}

function maybeJsonToList(rest: string): LineArguments {
  const array = jsonArray(rest);
  return array ? { args: array, json: true } : whitespaceList(rest);
}

function healthcheck(rest: string): LineArguments {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest[sep]!)) sep++;
  if (sep === 0) return none;
  let next = sep;
  while (next < rest.length && isGoSpace(rest[next]!)) next++;
  const command = maybeJson(rest.slice(next));
  return { args: [rest.slice(0, sep), ...command.args], json: command.json };
}

/**
 * The two word scanners of Docker's parser in one. Plain (parseWords): words separated by
 * whitespace outside quotes, quotes and escape tokens kept in the word (they matter to the later
 * expansion), an escape token at the very end dropped. Flags (extractBuilderFlags): the leading
 * `--flag` words with quotes and escape tokens removed, stopping at the first word that does not
 * start with `--` (or after a bare `--`); `rest` is the text from there.
 */
export function scanWords(text: string, escapeToken: string, flags: boolean): { words: string[]; rest: string } {
  const words: string[] = [];
  const chars = Array.from(text);
  const restFrom = (pos: number) => ({ words, rest: chars.slice(pos).join('') });
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOk = false;
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isGoSpace(ch)) continue;
      if (flags && (ch !== '-' || chars[pos + 1] !== '-')) return restFrom(pos);
      phase = 'word';
    }
    if (pos === chars.length) {
      if (!(flags && word === '--') && (blankOk || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (flags && word === '--') return restFrom(pos);
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        if (flags) continue;
      }
      if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue;
        if (!flags) word += ch;
        ch = chars[++pos]!;
      }
      word += ch;
      continue;
    }
    // phase === 'quote'
    if (ch === quote) {
      phase = 'word';
      if (flags) continue;
    }
    if (ch === escapeToken && (flags || quote !== "'")) {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      if (!flags) word += ch;
      ch = chars[++pos]!;
    }
    word += ch;
  }
  return { words, rest: '' };
}

/** ENV/LABEL/ARG words (see scanWords). */
export const words = (rest: string, escapeToken: string): string[] => scanWords(rest, escapeToken, false).words;

function nameValues(rest: string, keyword: string, escapeToken: string): LineArguments {
  const list = words(rest, escapeToken);
  if (list.length === 0) return none;
  if (!list[0]!.includes('=')) {
    const split = WHITESPACE.exec(rest);
    if (!split) throw new Error(`${keyword} must have two arguments`);
    return { args: [rest.slice(0, split.index), rest.slice(split.index + split[0].length), ''], json: false };
  }
  const args: string[] = [];
  for (const word of list) {
    const eq = word.indexOf('=');
    if (eq === -1) throw new Error(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
    args.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return { args, json: false };
}
