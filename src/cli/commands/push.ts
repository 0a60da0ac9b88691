import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { splitImageTag } from '../image-name.js';
import { printProgress } from '../progress.js';
import { registryAuthHeader } from '../registry-credentials.js';
import { qualifiedName } from './pull.js';

export function pushCommand(ctx: CliContext): Command {
  return new Command('push')
    .description('Upload an image to a registry')
    .argument('<name[:tag]>')
    .option('-a, --all-tags', 'Push all tags of an image to the repository')
    .option('--disable-content-trust', 'Skip image signing (default true)')
    .option('-q, --quiet', 'Suppress verbose output')
    .action(async (reference: string, options: { allTags?: boolean; quiet?: boolean }) => {
      const split = splitImageTag(reference);
      const explicitTag = split.tag !== 'latest' || reference.endsWith(':latest');
      if (options.allTags && explicitTag) throw new Error('tag can\'t be used with --all-tags/-a');
      if (!options.allTags && !explicitTag && !options.quiet) ctx.stdout.write('Using default tag: latest\n');
      const tag = options.allTags ? undefined : split.tag;
      const progress = ctx.client().pushImage(split.name, tag, await registryAuthHeader(split.name));
      if (options.quiet) {
        for await (const message of progress) void message;
        ctx.stdout.write(`${qualifiedName(tag ? `${split.name}:${tag}` : split.name)}\n`);
      } else {
        await printProgress(progress, ctx.stdout);
      }
    });
}
