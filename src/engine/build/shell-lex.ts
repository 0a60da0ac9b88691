/**
 * Variable substitution and word splitting of Dockerfile arguments, as Docker's shell lexer
 * (buildkit frontend/dockerfile/shell): `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:+alt}`, `${VAR+alt}`, `${VAR?message}`, `${VAR:?message}`, `${VAR#pattern}`,
 * `${VAR%pattern}` (and the greedy `##`, `%%`), `${VAR/pattern/replacement}` and `//`; single and
 * double quotes; the escape token (`\` or the backtick of `# escape=`).
 *
 * It is not a shell: no command substitution, no arithmetic, and an unset variable is ''.
 */
import { invalidParameter } from '../../common/errors.js';

/** Where variables come from: the stage's ENV and the build args allowed at that point. */
export interface EnvLookup {
  get(name: string): string | undefined;
}

/**
 * An EnvLookup over `KEY=value` strings; a later key wins, a bare `KEY` is ''. The map is made
 * on the first lookup: most instructions reference no variable at all.
 */
export function envFromList(list: readonly string[]): EnvLookup {
  let map: Map<string, string> | undefined;
  return {
    get: (name) => {
      if (!map) {
        map = new Map();
        for (const entry of list) {
          const eq = entry.indexOf('=');
          map.set(eq === -1 ? entry : entry.slice(0, eq), eq === -1 ? '' : entry.slice(eq + 1));
        }
      }
      return map.get(name);
    },
  };
}

export interface LexOptions {
  /** Keep quote characters in the result (heredoc name detection). */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result. */
  rawEscapes?: boolean;
  /** Leave `$VAR` of an unset variable as written rather than ''. */
  skipUnsetEnv?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
}

const EOF = '';

/** Go's unicode.IsSpace. */
export function isGoSpace(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u.test(ch);
}

const isLetter = (ch: string) => /^\p{L}$/u.test(ch);
const isDigit = (ch: string) => /^\p{Nd}$/u.test(ch);
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

class LexError extends Error {}

/** Collects the words of ProcessWords: unquoted whitespace splits, quoted and escaped text does not. */
class Words {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (isGoSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }
  addRaw(text: string): void {
    this.buf += text;
    this.inWord = true;
  }
  addString(text: string): void {
    for (const ch of text) this.addChar(ch);
  }
  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

/** One pass over one word; the scanner state of lex.go's shellWord. */
class WordScanner {
  private pos = 0;
  private readonly chars: string[];
  private rawEscapes: boolean;

  constructor(
    source: string,
    private readonly escapeToken: string,
    private readonly env: EnvLookup,
    private readonly options: LexOptions,
  ) {
    this.chars = Array.from(source);
    this.rawEscapes = options.rawEscapes ?? false;
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }
  private next(): string {
    return this.chars[this.pos++] ?? EOF;
  }

  run(stopChar: string, rawEscapes: boolean): { word: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.stopOn(stopChar);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private stopOn(stopChar: string): { word: string; words: string[] } {
    let result = '';
    const words = new Words();
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (stopChar !== EOF && ch === stopChar) {
        this.next();
        return { word: result, words: words.finish() };
      }
      const special = this.special(ch);
      if (special) {
        const text = special();
        result += text;
        if (ch === '$') words.addString(text);
        else words.addRaw(text);
        continue;
      }
      let c = this.next();
      if (c === this.escapeToken) {
        if (this.rawEscapes) {
          words.addRaw(c);
          result += c;
        }
        c = this.next();
        if (c === EOF) break;
        words.addRaw(c);
      } else {
        words.addChar(c);
      }
      result += c;
    }
    if (stopChar !== EOF) throw new LexError(`unexpected end of statement while looking for matching ${stopChar}`);
    return { word: result, words: words.finish() };
  }

  private special(ch: string): (() => string) | undefined {
    if (ch === '$') return () => this.dollar();
    if (ch === '<') return () => this.possibleHeredoc();
    if (this.options.skipProcessQuotes) return undefined;
    if (ch === "'") return () => this.singleQuote();
    if (ch === '"') return () => this.doubleQuote();
    return undefined;
  }

  private singleQuote(): string {
    // All characters between single quotes are taken as-is, escapes included.
    let result = '';
    const open = this.next();
    if (this.options.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.options.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private doubleQuote(): string {
    // Between double quotes the escape token only escapes ", $ and itself; $ still expands.
    let result = '';
    const open = this.next();
    if (this.options.rawQuotes) result += open;
    for (;;) {
      const peeked = this.peek();
      if (peeked === EOF) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (peeked === '"') {
        const close = this.next();
        if (this.options.rawQuotes) result += close;
        return result;
      }
      if (peeked === '$') {
        result += this.dollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escapeToken) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === this.escapeToken) ch = this.next();
      }
      result += ch;
    }
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined && this.options.skipUnsetEnv) return `$${name}`;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.name();
    let ch = this.next();
    if (ch === EOF) throw new LexError("syntax error: missing '}'");
    let modifier = ch;
    let nullIsUnset = false;
    switch (ch) {
      case '}': {
        const value = this.lookup(name);
        if (value === undefined && this.options.skipUnsetEnv) return `\${${name}}`;
        return value ?? '';
      }
      case ':':
        nullIsUnset = true;
        ch = this.next();
        modifier += ch;
        return this.modifier(name, ch, modifier, nullIsUnset);
      case '+':
      case '-':
      case '?':
      case '#':
      case '%':
        return this.modifier(name, ch, modifier, nullIsUnset);
      case '/':
        return this.replacement(name);
      default:
        throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  private modifier(name: string, ch: string, modifier: string, nullIsUnset: boolean): string {
    const trims = ch === '#' || ch === '%';
    if (nullIsUnset && trims) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    const word = this.readUntil('}', trims, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (this.options.skipUnsetEnv && value === undefined) return `\${${name}${modifier}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return unset ? word : value!;
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '%':
      case '#': {
        const greedy = word.startsWith(ch);
        const pattern = greedy ? word.slice(1) : word;
        return ch === '%' ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  private replacement(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.readUntil('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.readUntil('}', true, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (this.options.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternRegex(pattern, true, false, all);
    // A function replacer: '$' in the replacement is literal, as in Go's ReplaceAllString of a plain string.
    return (value ?? '').replace(re, () => replacement);
  }

  /** The text up to `stop` (substituted); `missing` when the word ends first. */
  private readUntil(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.run(stop, rawEscapes).word;
    } catch (err) {
      if (this.peek() === EOF) throw new LexError(missing);
      throw err;
    }
  }

  private name(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  /** `<<` keeps the whitespace after it, so a heredoc word survives word splitting. */
  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    while (this.peek() === '\t' || this.peek() === '\r' || this.peek() === ' ') space += this.next();
    return `<<${space}`;
  }

  private lookup(name: string): string | undefined {
    return this.env.get(name);
  }
}

/** A shell glob (`*`, `?`, `\` escapes) as a regular expression, as lex.go's convertShellPatternToRegex. */
export function shellPatternRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  let out = anchored ? '^' : '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i]!;
    switch (tok) {
      case '*':
        out += greedy ? '.*' : '.*?';
        continue;
      case '?':
        out += '.';
        continue;
      case '\\': {
        const after = chars[i + 1];
        if (after === '}' || after === '/') continue;
        out += '\\';
        i++;
        tok = chars[i] ?? '';
        if (tok !== '*' && tok !== '?' && tok !== '\\') throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${tok}'`);
        break;
      }
      case '[':
      case ']':
      case '{':
      case '}':
      case '.':
      case '+':
      case '(':
      case ')':
      case '|':
      case '^':
      case '$':
        out += '\\';
        break;
    }
    out += tok;
  }
  return new RegExp(out, global ? 'gsu' : 'su');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const match = shellPatternRegex(pattern, greedy, true).exec(value);
  return match ? value.slice(match[0].length) : value;
}

/** The reverse of a pattern, escapes kept in front of what they escape. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = chars[i]!;
    const at = last - i;
    if (tok === '\\' && i !== last) {
      out[at - 1] = tok;
      out[at] = chars[i + 1]!;
      i += 2;
    } else {
      out[at] = tok;
      i++;
    }
  }
  return out.join('');
}

const reverse = (text: string) => Array.from(text).reverse().join('');

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}

/** The lexer of one Dockerfile: its escape token and options. */
export class ShellLex {
  constructor(
    readonly escapeToken: string = '\\',
    private readonly options: LexOptions = {},
  ) {}

  /** One word with its variables substituted and its quotes removed (ENV values, paths, USER…). */
  processWord(word: string, env: EnvLookup): string {
    return this.process(word, env).word;
  }

  /** The words of `text` after substitution: unquoted whitespace splits (EXPOSE, heredoc names). */
  processWords(text: string, env: EnvLookup): string[] {
    return this.process(text, env).words;
  }

  private process(source: string, env: EnvLookup): { word: string; words: string[] } {
    const scanner = new WordScanner(source, this.escapeToken, env, this.options);
    try {
      return scanner.run(EOF, this.options.rawEscapes ?? false);
    } catch (err) {
      if (err instanceof LexError) throw invalidParameter(`failed to process ${JSON.stringify(source)}: ${err.message}`);
      throw err;
    }
  }
}
