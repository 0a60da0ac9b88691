import { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { CliContext } from '../context.js';

export function saveCommand(ctx: CliContext): Command {
  return new Command('save')
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .argument('<image...>')
    .action(async (images: string[], flags: { output?: string }) => {
      // As the docker CLI: an archive is never written to a terminal, and nothing is asked of
      // the daemon before that is settled.
      if (flags.output === undefined && ctx.stdout.isTTY) {
        throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      }
      const archive = await ctx.client().saveImages(images);
      await pipeline(archive, flags.output === undefined ? ctx.stdout : createWriteStream(flags.output));
    });
}
