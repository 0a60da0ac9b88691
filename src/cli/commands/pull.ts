import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { splitImageTag } from '../image-name.js';
import { printProgress } from '../progress.js';

export function pullCommand(ctx: CliContext): Command {
  return new Command('pull')
    .description('Download an image from a registry')
    .argument('<name[:tag|@digest]>')
    .action(async (reference: string) => {
      const { name, tag } = splitImageTag(reference);
      await printProgress(ctx.client().pullImage({ fromImage: name, tag }), ctx.stdout);
    });
}
