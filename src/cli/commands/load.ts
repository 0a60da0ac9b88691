import { Command } from 'commander';
import { createReadStream } from 'node:fs';
import type { CliContext } from '../context.js';

export function loadCommand(ctx: CliContext): Command {
  return new Command('load')
    .description('Load an image from a tar archive or STDIN')
    .option('-i, --input <file>', 'Read from tar archive file, instead of STDIN')
    .option('-q, --quiet', 'Suppress the load output')
    .action(async (flags: { input?: string; quiet?: boolean }) => {
      // As the docker CLI: an archive is never read from a terminal.
      if (flags.input === undefined && ctx.stdin.isTTY) {
        throw new Error('requested load from stdin, but stdin is empty');
      }
      const archive = flags.input === undefined ? ctx.stdin : createReadStream(flags.input);
      for await (const message of ctx.client().loadImages(archive, { quiet: flags.quiet })) {
        if (message.stream !== undefined) ctx.stdout.write(message.stream);
      }
    });
}
