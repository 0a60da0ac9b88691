import { createReadStream } from 'node:fs';
import { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `berth volume import NAME [FILE|-]`: fills a volume from a tar (plain or gzip), from a file or stdin. */
export function volumeImportCommand(ctx: CliContext): Command {
  return new Command('import')
    .description('Import a tar archive into a volume (Berth; Docker has no such command)')
    .argument('<volume>')
    .argument('[file]', 'tar file to read, or - for STDIN', '-')
    .action(async (name: string, file: string) => {
      const tar = file === '-' ? ctx.stdin : createReadStream(file);
      await ctx.client().importVolume(name, tar);
    });
}
