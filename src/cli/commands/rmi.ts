import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';

export function rmiCommand(ctx: CliContext, name = 'rmi'): Command {
  return new Command(name)
    .description('Remove one or more images')
    .option('-f, --force', 'Force removal of the image')
    .option('--no-prune', 'Do not delete untagged parents')
    .argument('<image...>')
    .action(async (images: string[], flags: { force?: boolean; prune: boolean }) => {
      await forEachTarget(ctx, images, async (image) => {
        const removed = await ctx.client().removeImage(image, { force: flags.force, noprune: !flags.prune });
        return removed
          .map((item) => (item.Untagged !== undefined ? `Untagged: ${item.Untagged}` : `Deleted: ${item.Deleted}`))
          .join('\n');
      });
    });
}
