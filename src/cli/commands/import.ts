import { Command } from 'commander';
import { createReadStream } from 'node:fs';
import type { CliContext } from '../context.js';
import { collect } from '../option-values.js';
import { printImportedImageId } from '../progress.js';

export function importCommand(ctx: CliContext): Command {
  return new Command('import')
    .description('Import the contents from a tarball to create a filesystem image')
    .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <message>', 'Set commit message for imported image')
    .argument('<file>', "a tar file, or '-' for standard input")
    .argument('[repository[:tag]]')
    .action(async (file: string, repository: string | undefined, flags: { change?: string[]; message?: string }) => {
      const tar = file === '-' ? ctx.stdin : createReadStream(file);
      // As the docker CLI: the whole reference goes in `repo`, no separate `tag`.
      const progress = ctx.client().importImage(tar, { repo: repository, changes: flags.change, message: flags.message });
      await printImportedImageId(progress, ctx.stdout);
    });
}
