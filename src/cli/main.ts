/**
 * The `berth` command line: Docker's commands, flags, output and exit codes, over the Engine API.
 * Commands live one per module in commands/; this file wires them and turns failures into exits.
 */
import { Command, CommanderError } from 'commander';
import { CliExit, describeError } from './cli-exit.js';
import { errorText } from './colour.js';
import { createContext, type CliContext } from './context.js';
import { addGlobalOptions, GLOBAL_VALUE_OPTIONS } from './global-options.js';
import { printHelpTopic } from './help-topic.js';
import { refuseNotCarriedOut } from './not-carried-out.js';
import { DockerUsageError, FLAG_ERROR_EXIT_CODE, reportUsageErrorsAsDocker } from './usage-errors.js';
import { attachCommand } from './commands/attach.js';
import { builderCommand } from './commands/builder.js';
import { completionCommand } from './commands/completion.js';
import { cpCommand } from './commands/cp.js';
import { exportCommand } from './commands/export.js';
import { createCommand } from './commands/create.js';
import { eventsCommand } from './commands/events.js';
import { execCommand } from './commands/exec.js';
import { containerCommand } from './commands/container.js';
import { imageCommand } from './commands/image.js';
import { networkCommand } from './commands/network.js';
import { portCommand } from './commands/port.js';
import { imagesCommand } from './commands/images.js';
import { importCommand } from './commands/import.js';
import { saveCommand } from './commands/save.js';
import { loadCommand } from './commands/load.js';
import { infoCommand } from './commands/info.js';
import { inspectCommand } from './commands/inspect.js';
import { killCommand } from './commands/kill.js';
import { logsCommand } from './commands/logs.js';
import { pauseCommand, unpauseCommand } from './commands/pause.js';
import { psCommand } from './commands/ps.js';
import { pullCommand } from './commands/pull.js';
import { pushCommand } from './commands/push.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { rmCommand } from './commands/rm.js';
import { rmiCommand } from './commands/rmi.js';
import { runCommand } from './commands/run.js';
import { startCommand } from './commands/start.js';
import { statsCommand } from './commands/stats.js';
import { restartCommand, stopCommand } from './commands/stop.js';
import { renameCommand } from './commands/rename.js';
import { updateCommand } from './commands/update.js';
import { waitCommand } from './commands/wait.js';
import { tagCommand } from './commands/tag.js';
import { topCommand } from './commands/top.js';
import { CLIENT_VERSION, versionCommand } from './commands/version.js';
import { commitCommand } from './commands/commit.js';
import { buildCommand } from './commands/build.js';
import { diffCommand } from './commands/diff.js';
import { historyCommand } from './commands/history.js';
import { systemCommand } from './commands/system.js';
import { volumeCommand } from './commands/volume.js';

type CommandFactory = (ctx: CliContext) => Command;

/** Every top-level command by its name, in the order help lists them. */
const COMMANDS: ReadonlyMap<string, CommandFactory> = new Map([
  ['run', runCommand],
  ['create', createCommand],
  ['start', startCommand],
  ['attach', attachCommand],
  ['logs', logsCommand],
  ['exec', execCommand],
  ['top', topCommand],
  ['stats', statsCommand],
  ['ps', psCommand],
  ['inspect', inspectCommand],
  ['stop', stopCommand],
  ['restart', restartCommand],
  ['rename', renameCommand],
  ['update', updateCommand],
  ['wait', waitCommand],
  ['kill', killCommand],
  ['pause', pauseCommand],
  ['unpause', unpauseCommand],
  ['cp', cpCommand],
  ['export', exportCommand],
  ['diff', diffCommand],
  ['commit', commitCommand],
  ['build', buildCommand],
  ['rm', rmCommand],
  ['images', imagesCommand],
  ['rmi', rmiCommand],
  ['tag', tagCommand],
  ['import', importCommand],
  ['history', historyCommand],
  ['save', saveCommand],
  ['load', loadCommand],
  ['pull', pullCommand],
  ['push', pushCommand],
  ['login', loginCommand],
  ['logout', logoutCommand],
  ['version', versionCommand],
  ['info', infoCommand],
  ['events', eventsCommand],
  ['image', imageCommand],
  ['network', networkCommand],
  ['port', portCommand],
  ['system', systemCommand],
  ['builder', builderCommand],
  ['volume', volumeCommand],
  ['container', containerCommand],
  ['completion', (ctx) => completionCommand(ctx, () => buildProgram(ctx))],
] satisfies [string, CommandFactory][]);

/**
 * The command tree for one command line. Only the command the line names is built when it names
 * one (building all of them is a good part of a short call's own time), and none for `--version`;
 * help, `berth help …`, a line without a command and a misspelt one get the whole tree, for the
 * listing and the suggestions.
 */
export function buildProgram(ctx: CliContext, args?: readonly string[]): Command {
  const program = addGlobalOptions(new Command('berth').description('A container engine speaking the Docker Engine API'))
    .version(`Berth version ${CLIENT_VERSION}`, '-v, --version', 'Print version information and quit')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
      outputError: (text, write) => write(errorText(ctx.stderr, text)),
    });
  for (const make of commandsFor(args)) program.addCommand(make(ctx));
  for (const [path, command] of allCommands(program)) {
    // Subcommands inherit exitOverride and the output streams only if set before they are added,
    // so set them on each: a usage error of `berth create` goes to the context's stderr, coloured.
    command.exitOverride().configureOutput(program.configureOutput());
    reportUsageErrorsAsDocker(command, () => ctx.stderr);
    refuseNotCarriedOut(command, path);
  }
  reportUsageErrorsAsDocker(program, () => ctx.stderr);
  return program;
}

function commandsFor(args: readonly string[] | undefined): Iterable<CommandFactory> {
  if (args === undefined) return COMMANDS.values();
  const name = commandName(args);
  const named = COMMANDS.get(name ?? '');
  if (named) return [named];
  const versionOnly = name === undefined && (args.includes('-v') || args.includes('--version')) && !args.some(isHelpFlag);
  return versionOnly ? [] : COMMANDS.values();
}

const isHelpFlag = (arg: string) => arg === '-h' || arg === '--help';

/** The first operand before which only the global options stand. */
function commandName(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (GLOBAL_VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** Every command under `command`, with its path ('run', 'image ls'). */
function allCommands(command: Command, prefix = ''): [string, Command][] {
  return command.commands.flatMap((child): [string, Command][] => {
    const path = prefix === '' ? child.name() : `${prefix} ${child.name()}`;
    return [[path, child], ...allCommands(child, path)];
  });
}

/** Runs one command line (without the node and script arguments) and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  return prepareCall(args)(args);
}

/**
 * The program and context of one call, made before its command line is known when `args` is
 * absent: the startup snapshot makes the whole command tree once at build time, so that a call
 * only parses (building the tree of `run` alone took 3–5 ms of every call). Either way the result
 * runs one command line: the tree keeps what it parsed.
 */
export function prepareCall(args?: readonly string[]): (args: string[]) => Promise<number> {
  let program: Command | undefined;
  // The global -H and --config, as the line being run gave them.
  const globals = () => program?.opts<{ host?: string; config?: string }>();
  const ctx = createContext(() => globals()?.host, () => globals()?.config);
  program = buildProgram(ctx, args);
  const built = program;
  return async (line) => (commandName(line) === 'help' ? helpTopic(built, line, ctx) : runCommandLine(line, ctx, built));
}

/** `berth help A B`: the words after `help` name the command whose help is printed. */
function helpTopic(program: Command, args: string[], ctx: CliContext): number {
  const words = args.slice(args.indexOf('help') + 1).filter((arg) => !arg.startsWith('-'));
  try {
    printHelpTopic(program, words, ctx.stdout);
    return 0;
  } catch (err) {
    return reportFailure(err, ctx.stderr);
  }
}

/** Runs one command line on a given context (the snapshot's warm-up hands in its own) and closes it. */
export async function runCommandLine(args: string[], ctx: CliContext, program = buildProgram(ctx, args)): Promise<number> {
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    return reportFailure(err, ctx.stderr);
  } finally {
    ctx.close();
  }
}

function reportFailure(err: unknown, stderr: NodeJS.WritableStream): number {
  if (err instanceof CommanderError) {
    // The usage error (in docker's words: usage-errors.ts) or the help is printed already. A line
    // that names no (sub)command gets the help on stderr, and docker exits 0 for it (`docker`).
    if (err.exitCode === 0 || err.code === 'commander.help') return 0;
    return err instanceof DockerUsageError ? err.exitCode : FLAG_ERROR_EXIT_CODE;
  }
  if (err instanceof CliExit) {
    if (err.message) stderr.write(`${errorText(stderr, err.message)}\n`);
    return err.code;
  }
  stderr.write(`${errorText(stderr, describeError(err))}\n`);
  return 1;
}

