import { Command } from 'commander';
import type { CliContext } from '../context.js';

export function renameCommand(ctx: CliContext): Command {
  return new Command('rename')
    .description('Rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (container: string, newName: string) => {
      await ctx.client().renameContainer(container, newName);
    });
}
