import { Command } from 'commander';
import type { ImageDeleteResponseItem } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { confirm } from '../confirm.js';
import { collect, filterOptions } from '../option-values.js';
import { deletedImagesText, writePruneReport } from '../prune-report.js';

interface PruneFlags {
  all?: boolean;
  filter?: string[];
  force?: boolean;
}

const DANGLING_WARNING = 'WARNING! This will remove all dangling images.';
const ALL_WARNING = 'WARNING! This will remove all images without at least one container associated to them.';

export interface ImagePruneReport {
  ImagesDeleted: ImageDeleteResponseItem[] | null;
  SpaceReclaimed: number;
}

/** POST /images/prune as `docker image prune` sends it: `-a` is the filter dangling=false. */
export function pruneImages(ctx: CliContext, all: boolean, filter: string[] | undefined): Promise<ImagePruneReport> {
  const filters = { ...(filterOptions(filter) ?? {}), dangling: [all ? 'false' : 'true'] };
  return ctx.client().prune<ImagePruneReport>('images', filters);
}

export function imagePruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (flags: PruneFlags) => {
      if (!flags.force && !(await confirm(ctx, flags.all ? ALL_WARNING : DANGLING_WARNING))) return;
      const report = await pruneImages(ctx, flags.all ?? false, flags.filter);
      writePruneReport(ctx, [deletedImagesText(report.ImagesDeleted)], report.SpaceReclaimed);
    });
}
