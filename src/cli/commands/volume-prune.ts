import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../format/size.js';
import { collect, filterOptions } from '../option-values.js';

const WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
const WARNING_ALL = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';

export function volumePruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove unused local volumes')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', "Provide filter values (e.g. 'label=<label>')", collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (flags: { all?: boolean; filter?: string[]; force?: boolean }) => {
      const filters = filterOptions(flags.filter) ?? {};
      if (flags.all) filters.all = ['true'];
      if (!flags.force && !(await confirm(ctx, flags.all ? WARNING_ALL : WARNING))) return;
      const { VolumesDeleted, SpaceReclaimed } = await ctx.client().pruneVolumes({ filters });
      if (VolumesDeleted?.length) ctx.stdout.write(`Deleted Volumes:\n${VolumesDeleted.map((name) => `${name}\n`).join('')}\n`);
      ctx.stdout.write(`Total reclaimed space: ${humanSize(SpaceReclaimed)}\n`);
    });
}
