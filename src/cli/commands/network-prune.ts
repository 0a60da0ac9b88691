import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { collect, filterOptions } from '../option-values.js';
import { confirm } from '../confirm.js';

const WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';

export function networkPruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove all unused networks')
    .option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>')", collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (flags: { filter?: string[]; force?: boolean }) => {
      if (!flags.force && !(await confirm(ctx, WARNING))) return;
      const { NetworksDeleted } = await ctx.client().pruneNetworks(filterOptions(flags.filter));
      if (NetworksDeleted?.length) ctx.stdout.write(`Deleted Networks:\n${NetworksDeleted.join('\n')}\n\n`);
    });
}
