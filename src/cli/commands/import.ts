import { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { CliContext } from '../context.js';
import { copyInfoSourcePath, goPathError, tarResource } from '../local-copy.js';
import { collect } from '../option-values.js';
import { printImportedImageId } from '../progress.js';
import { checkOnlyLeastOperands } from '../usage-errors.js';

export function importCommand(ctx: CliContext): Command {
  const command = new Command('import')
    .description('Import the contents from a tarball to create a filesystem image')
    .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <message>', 'Set commit message for imported image')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .argument('<file>', "a tar file (plain, gzip or zstd), a directory, or '-' for standard input")
    .argument('[repository[:tag]]')
    .action(async (file: string, repository: string | undefined, flags: { change?: string[]; message?: string; platform?: string }) => {
      const tar = await importSource(ctx, file);
      // As the docker CLI: the whole reference goes in `repo`, no separate `tag`.
      const progress = ctx.client().importImage(tar, { repo: repository, changes: flags.change, message: flags.message, platform: flags.platform });
      await printImportedImageId(progress, ctx.stdout);
    });
  return checkOnlyLeastOperands(command);
}

/** The tar to send: standard input, the file, or (berth's addition) a tar of a directory's contents. */
async function importSource(ctx: CliContext, file: string): Promise<Readable> {
  if (file === '-') return ctx.stdin;
  const source = await stat(file).catch((err: unknown) => Promise.reject(goPathError(err, 'open', file)));
  if (source.isDirectory()) return tarResource(await copyInfoSourcePath(`${resolve(file)}/.`, false));
  return createReadStream(file);
}
