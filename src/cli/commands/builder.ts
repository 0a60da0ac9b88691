import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { confirm } from '../confirm.js';
import { collect, filterOptions } from '../option-values.js';
import { deletedListText, writePruneReport } from '../prune-report.js';
import { ramInBytes } from '../run-option-values.js';

/** `berth builder prune`: the build cache of the classic builder (POST /build/prune). */
export function builderCommand(ctx: CliContext): Command {
  return new Command('builder').description('Manage builds').addCommand(builderPruneCommand(ctx));
}

interface BuilderPruneFlags {
  all?: boolean;
  filter?: string[];
  force?: boolean;
  keepStorage?: string;
}

function builderPruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove build cache')
    .option('-a, --all', 'Remove all unused build cache, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=24h")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--keep-storage <bytes>', 'Amount of disk space to keep for cache')
    .action(async (flags: BuilderPruneFlags) => {
      // Checked before the question, as the docker CLI parses its flags first.
      const keepStorage = flags.keepStorage === undefined ? undefined : ramInBytes(flags.keepStorage);
      const warning = flags.all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
      if (!flags.force && !(await confirm(ctx, `${warning} Are you sure you want to continue?`))) return;
      const query = { all: flags.all, ...(keepStorage === undefined ? {} : { 'keep-storage': keepStorage }) };
      const report = await ctx.client().prune<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('build', filterOptions(flags.filter), query);
      writePruneReport(ctx, [deletedListText('Deleted build cache objects', report.CachesDeleted)], report.SpaceReclaimed);
    });
}
