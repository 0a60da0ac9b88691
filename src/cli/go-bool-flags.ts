/**
 * pflag lets a boolean flag carry its value after '=' (`--rm=false`, `-a=0`, in Go's ParseBool
 * spellings), the last occurrence of a flag winning. Commander knows only bare boolean flags, so a
 * command's line is rewritten before commander parses it: a true value becomes the bare flag, a
 * false one drops the flag together with its earlier occurrences (bare, or in a group of short
 * flags such as `-it`). The scan follows commander's own reading of the line (a flag's value is
 * not a flag; options end at `--`, at an unknown flag, and at the first operand where options
 * are positional), so a container's command line (`run busybox ls --all=1`) is left alone.
 */
import type { Command, Option } from 'commander';
import { goParseBool } from '../common/go-strconv.js';

/** Commander 12's internals the scan reads (not in its typings). */
interface ParserState {
  _findOption(flag: string): Option | undefined;
  _passThroughOptions: boolean;
  _combineFlagAndOptionalValue: boolean;
}

const takesValue = (option: Option) => option.required || option.optional;

/** The line with each `--flag=bool` of `command`'s boolean options resolved; `invalid` reports a value that is not a Go bool. */
export function resolveBoolFlagValues(
  command: Command,
  argv: readonly string[],
  invalid: (value: string, flag: string) => never,
): string[] {
  const parser = command as unknown as ParserState;
  const stopsAtOperand = parser._passThroughOptions || command.commands.length > 0;
  const out: Array<string | null> = [];
  // Where each boolean option was set so far: an index into `out`, and the letter in a short group.
  const setAt = new Map<Option, Array<{ index: number; letter?: string }>>();
  const record = (option: Option, index: number, letter?: string) => setAt.set(option, [...(setAt.get(option) ?? []), { index, letter }]);
  const unset = (option: Option) => {
    for (const { index, letter } of setAt.get(option) ?? []) {
      const token = out[index];
      if (token === null) continue;
      if (letter === undefined) out[index] = null;
      else out[index] = token.replace(letter, '') === '-' ? null : token.replace(letter, '');
    }
    setAt.delete(option);
  };
  const result = () => [...out.filter((token): token is string => token !== null)];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const rest = () => [...result(), ...argv.slice(i)];
    if (arg === '--') return rest();
    const withValue = /^(--[^=]+|-[^-=])=([^]*)$/.exec(arg);
    if (withValue) {
      const [, flag, value] = withValue as unknown as [string, string, string];
      const option = parser._findOption(flag);
      if (!option) return rest();
      if (!takesValue(option)) {
        const parsed = goParseBool(value);
        if (parsed === undefined) invalid(value, flag.startsWith('--') || !option.long ? flag : `${flag}, ${option.long}`);
        unset(option);
        if (parsed) record(option, out.push(option.long ?? option.short!) - 1);
        continue;
      }
      out.push(arg);
      continue;
    }
    if (arg.length > 1 && arg.startsWith('-')) {
      const option = parser._findOption(arg);
      if (option) {
        const index = out.push(arg) - 1;
        if (option.required && i + 1 < argv.length) out.push(argv[++i]!);
        else if (option.optional && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) out.push(argv[++i]!);
        else if (!takesValue(option)) record(option, index);
        continue;
      }
      if (arg.startsWith('--')) return rest();
      // A group of short flags: booleans, perhaps ending in one that takes the rest as its value.
      const index = out.push(arg) - 1;
      for (let at = 1; at < arg.length; at++) {
        const letter = arg[at]!;
        const short = parser._findOption(`-${letter}`);
        if (!short) return [...result().slice(0, -1), ...argv.slice(i)];
        if (!takesValue(short)) {
          record(short, index, letter);
          continue;
        }
        const valueFollows = at === arg.length - 1;
        if (short.required && valueFollows && i + 1 < argv.length) out.push(argv[++i]!);
        if (short.required || (short.optional && parser._combineFlagAndOptionalValue)) break;
      }
      continue;
    }
    if (stopsAtOperand) return rest();
    out.push(arg);
  }
  return result();
}
