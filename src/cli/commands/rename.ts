import { Command } from 'commander';
import { CliExit, describeError } from '../cli-exit.js';
import type { CliContext } from '../context.js';

export function renameCommand(ctx: CliContext): Command {
  return new Command('rename')
    .description('Rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (container: string, newName: string) => {
      try {
        await ctx.client().renameContainer(container, newName);
      } catch (err) {
        // As docker: the daemon's error, then its own summary line.
        ctx.stderr.write(`${describeError(err)}\n`);
        throw new CliExit(1, `Error: failed to rename container named ${container}`);
      }
    });
}
