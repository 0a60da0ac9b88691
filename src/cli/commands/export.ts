import { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { CliContext } from '../context.js';

export function exportCommand(ctx: CliContext): Command {
  return new Command('export')
    .description("Export a container's filesystem as a tar archive")
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .argument('<container>')
    .action(async (container: string, flags: { output?: string }) => {
      // As the docker CLI: a tar is never written to a terminal, and nothing is asked of the
      // daemon before that is settled.
      if (flags.output === undefined && ctx.stdout.isTTY) {
        throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      }
      const tar = await ctx.client().exportContainer(container);
      await pipeline(tar, flags.output === undefined ? ctx.stdout : createWriteStream(flags.output));
    });
}
