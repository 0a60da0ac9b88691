/**
 * A command line berth cannot parse is answered as the docker CLI (28) answers it: pflag's wording
 * for a flag (`unknown flag: --x`, `unknown shorthand flag: 'Z' in -Z`, `flag needs an argument:
 * --name`, exit 125), cobra's for the operands (`berth: 'berth tag' requires 2 arguments`,
 * `berth: unknown command: berth bogus`, exit 1), each followed by the command's usage line and
 * where its help is. Commander words these its own way (`error: unknown option '--x'`), so the
 * methods it reports them through are replaced on each command.
 */
import { CommanderError, type Command, type Option } from 'commander';
import { errorText } from './colour.js';
import { resolveBoolFlagValues } from './go-bool-flags.js';

/** Docker's exit code for a flag it cannot parse (and for commander's other usage errors); an operand error exits 1. */
export const FLAG_ERROR_EXIT_CODE = 125;

/** A usage error already reported as docker reports it; `exitCode` is docker's for it. */
export class DockerUsageError extends CommanderError {}

/**
 * Commander 12's reporting methods (not in its typings): the parser calls them on the command
 * whose line is wrong; each must throw.
 */
interface ReportingMethods {
  /** Set by allowUnknownOption() (top's ps options): commander's own unknownOption checks it first. */
  _allowUnknownOption: boolean;
  unknownOption(flag: string): void;
  optionMissingArgument(option: Option): void;
  missingArgument(name: string): void;
  unknownCommand(): void;
  _excessArguments(received: string[]): void;
}

/** Replaces `command`'s reports of a wrong line with docker's; `stderr` is where they go. */
export function reportUsageErrorsAsDocker(command: Command, stderr: () => NodeJS.WritableStream): void {
  const methods = command as unknown as ReportingMethods;
  const fail = (message: string, code: string, exitCode: number, helpVerb: HelpVerb, usage = true): never => {
    const path = commandPath(command);
    const usageLines = usage ? `\nUsage:  ${command.createHelp().commandUsage(command)}\n` : '';
    const out = stderr();
    out.write(`${errorText(out, message)}\n${usageLines}\n${helpVerb} '${path} --help' for more information\n`);
    throw new DockerUsageError(exitCode, code, message);
  };
  methods.unknownOption = (flag) => {
    if (methods._allowUnknownOption) return;
    if (flag.startsWith('--')) fail(`unknown flag: ${flag.split('=')[0]}`, 'commander.unknownOption', FLAG_ERROR_EXIT_CODE, 'Run');
    else fail(`unknown shorthand flag: '${flag[1]}' in ${flag}`, 'commander.unknownOption', FLAG_ERROR_EXIT_CODE, 'Run');
  };
  methods.optionMissingArgument = (option) => {
    // The flag as typed: a missing value can only be at the end of the line.
    const typedLong = lastArgument(command)?.startsWith('--') ?? true;
    const flag = typedLong && option.long ? option.long : `'${option.short!.slice(1)}' in ${option.short}`;
    fail(`flag needs an argument: ${flag}`, 'commander.optionMissingArgument', FLAG_ERROR_EXIT_CODE, 'Run');
  };
  // cobra checks the count of operands in one rule per command, whether too few or too many.
  methods.missingArgument = () => {
    const { message, helpVerb } = operandCountRule(command);
    fail(`berth: '${commandPath(command)}' ${message}`, 'commander.missingArgument', 1, helpVerb);
  };
  methods._excessArguments = () => {
    if (MIN_ARGS_ONLY.has(command)) return;
    const { message, helpVerb } = operandCountRule(command);
    fail(`berth: '${commandPath(command)}' ${message}`, 'commander.excessArguments', 1, helpVerb);
  };
  command.allowExcessArguments(false);
  const parseOptions = command.parseOptions.bind(command);
  command.parseOptions = (argv) =>
    parseOptions(
      resolveBoolFlagValues(command, argv, (value, flag) =>
        fail(`invalid argument ${JSON.stringify(value)} for ${JSON.stringify(flag)} flag: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`, 'commander.invalidArgument', FLAG_ERROR_EXIT_CODE, 'Run'),
      ),
    );
  methods.unknownCommand = () => {
    const message = `berth: unknown command: ${commandPath(command)} ${command.args[0]}`;
    // As docker: the usage line for a group (`berth image bogus`), none for the top level.
    fail(message, 'commander.unknownCommand', 1, 'Run', command.parent !== null);
  };
}

/**
 * How the help is pointed to after an operand error: cobra's RequiresMinArgs says "See", the
 * others "Run"; docker 28's MaximumNArgs prints a stray "S" before its "Run", reproduced as it is.
 */
type HelpVerb = 'Run' | 'See' | 'SRun';

const MIN_ARGS_ONLY = new WeakSet<Command>();

/** Marks a command whose docker counterpart checks only a least number of operands and ignores any beyond its own (`import`). */
export function checkOnlyLeastOperands(command: Command): Command {
  MIN_ARGS_ONLY.add(command);
  return command;
}

/** The docker CLI's rule for the number of operands of a command, read off its declared operands. */
function operandCountRule(command: Command): { message: string; helpVerb: HelpVerb } {
  const operands = command.registeredArguments;
  const required = operands.filter((operand) => operand.required).length;
  const most = operands.length;
  const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;
  if (most === 0) return { message: 'accepts no arguments', helpVerb: 'Run' };
  if (MIN_ARGS_ONLY.has(command) || operands.some((operand) => operand.variadic)) return { message: `requires at least ${plural(required)}`, helpVerb: 'See' };
  if (required === most) return { message: `requires ${plural(required)}`, helpVerb: 'Run' };
  if (required === 0) return { message: `requires at most ${plural(most)}`, helpVerb: 'SRun' };
  return { message: `requires at least ${required} and at most ${plural(most)}`, helpVerb: 'Run' };
}

/** 'berth image ls' for the command `ls` under `image`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** The last argument of the line being parsed (the root command keeps the raw line). */
function lastArgument(command: Command): string | undefined {
  let root = command;
  while (root.parent) root = root.parent;
  return (root as unknown as { rawArgs?: string[] }).rawArgs?.at(-1);
}
