import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { splitImageTag } from '../image-name.js';

export function tagCommand(ctx: CliContext): Command {
  return new Command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source_image[:tag]>')
    .argument('<target_image[:tag]>')
    .action(async (source: string, target: string) => {
      const { name, tag } = splitImageTag(target);
      await ctx.client().tagImage(source, { repo: name, tag });
    });
}
