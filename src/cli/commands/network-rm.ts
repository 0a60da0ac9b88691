import { Command } from 'commander';
import { DaemonError } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';

export function networkRmCommand(ctx: CliContext): Command {
  return new Command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .option('-f, --force', 'Do not error if the network does not exist')
    .argument('<network...>')
    .action(async (names: string[], flags: { force?: boolean }) => {
      await forEachTarget(ctx, names, async (name) => {
        await ctx.client().removeNetwork(name).catch((err) => {
          if (!(flags.force && err instanceof DaemonError && err.statusCode === 404)) throw err;
        });
      });
    });
}
