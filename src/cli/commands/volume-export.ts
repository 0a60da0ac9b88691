import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { CliExit } from '../cli-exit.js';
import type { CliContext } from '../context.js';

/** `berth volume export NAME`: the volume's content as a tar, to a file or stdout (not a terminal). */
export function volumeExportCommand(ctx: CliContext): Command {
  return new Command('export')
    .description("Export a volume's content as a tar archive (Berth; Docker has no such command)")
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .argument('<volume>')
    .action(async (name: string, flags: { output?: string }) => {
      if (!flags.output && ctx.stdout.isTTY) throw new CliExit(1, 'berth: refusing to write a tar to a terminal: use -o FILE or redirect the output');
      const tar = await ctx.client().exportVolume(name);
      await pipeline(tar, flags.output ? createWriteStream(flags.output) : ctx.stdout);
    });
}
