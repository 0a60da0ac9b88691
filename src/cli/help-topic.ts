import type { Command } from 'commander';
import { CliExit } from './cli-exit.js';

/**
 * `berth help [COMMAND...]` as docker's help command: the help of the command the words name,
 * subcommands included (`berth help container ls`), on stdout; a word that names no command is
 * "unknown help topic", status 1.
 */
export function printHelpTopic(program: Command, words: readonly string[], stdout: NodeJS.WritableStream): void {
  let command = program;
  for (const word of words) {
    const next = command.commands.find((child) => child.name() === word || child.aliases().includes(word));
    if (!next) throw new CliExit(1, `unknown help topic: ${word}`);
    command = next;
  }
  stdout.write(command.helpInformation());
}
