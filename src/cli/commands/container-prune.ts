import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../format/size.js';
import { collect, filterOptions } from '../option-values.js';

const WARNING = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?';

/** `berth container prune`: the docker CLI's prompt, list of deleted IDs and reclaimed total. */
export function containerPruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove all stopped containers')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .allowExcessArguments(false)
    .action(async (flags: { filter?: string[]; force?: boolean }) => {
      const filters = filterOptions(flags.filter);
      // As docker: a "no" ends the command quietly, with status 0.
      if (!flags.force && !(await confirm(ctx, WARNING))) return;
      const report = await ctx.client().pruneContainers(filters);
      const deleted = report.ContainersDeleted ?? [];
      if (deleted.length > 0) ctx.stdout.write(`Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`);
      // go-units HumanSize: four significant digits.
      ctx.stdout.write(`Total reclaimed space: ${humanSize(report.SpaceReclaimed, 4)}\n`);
    });
}
