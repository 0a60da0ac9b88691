import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';

export function volumeRmCommand(ctx: CliContext): Command {
  return new Command('rm')
    .alias('remove')
    .description('Remove one or more volumes')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .argument('<volume...>')
    .action(async (names: string[], flags: { force?: boolean }) => {
      await forEachTarget(ctx, names, (name) => ctx.client().removeVolume(name, flags));
    });
}
