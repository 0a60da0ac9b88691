/**
 * Heredoc words (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`) as Docker's parser reads them: the
 * terminator name, the file descriptor, whether leading tabs are stripped (`<<-`), and whether
 * the body is subject to variable expansion (not when any part of the name was quoted).
 */
import { ShellLex } from './shell-lex.js';

export interface Heredoc {
  name: string;
  fileDescriptor: number;
  /** Variables in the body are expanded (the name was not quoted). */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the terminator line and, when used, from the body. */
  chomp: boolean;
  /** The body, line endings kept; '' until the parser has read it. */
  content: string;
}

// Go's \s is ASCII whitespace only.
const HEREDOC_WORD = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const noEnv = { get: () => undefined };

/** The heredoc a word opens, or undefined when it is not one. */
export function parseHeredocWord(word: string): Heredoc | undefined {
  const match = HEREDOC_WORD.exec(word);
  if (!match) return undefined;
  const rest = match[3]!;
  if (rest === '') return undefined;
  const words = new ShellLex('\\', { skipUnsetEnv: true }).processWords(rest, noEnv);
  if (words.length !== 1) return undefined;
  const rawWords = new ShellLex('\\', { skipUnsetEnv: true, rawQuotes: true }).processWords(rest, noEnv);
  if (rawWords.length !== words.length) throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const quotes = (text: string) => (text.match(/['"]/g) ?? []).length;
  const name = words[0]!;
  return {
    name,
    fileDescriptor: match[1] === '' ? 0 : Number.parseInt(match[1]!, 10),
    expand: quotes(name) === quotes(rawWords[0]!),
    chomp: match[2] === '-',
    content: '',
  };
}

/** A `<<-` body: leading tabs removed from every line. */
export const chompHeredocContent = (content: string) => content.replace(/^\t+/gm, '');
