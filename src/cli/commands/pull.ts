import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { splitImageTag } from '../image-name.js';
import { printProgress } from '../progress.js';
import { registryAuthHeader } from '../registry-credentials.js';

/** The fully qualified name the docker CLI prints after a pull: "docker.io/library/busybox:latest". */
export function qualifiedName(reference: string): string {
  const slash = reference.indexOf('/');
  const first = slash < 0 ? '' : reference.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return reference;
  return slash < 0 ? `docker.io/library/${reference}` : `docker.io/${reference}`;
}

export function pullCommand(ctx: CliContext): Command {
  return new Command('pull')
    .description('Download an image from a registry')
    .argument('<name[:tag|@digest]>')
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .option('--disable-content-trust', 'Skip image verification (default true)')
    .option('--platform <value>', 'Set platform if server is multi-platform capable')
    .option('-q, --quiet', 'Suppress verbose output')
    .action(async (reference: string, options: { allTags?: boolean; platform?: string; quiet?: boolean }) => {
      const split = splitImageTag(reference);
      const explicitTag = reference.includes('@') || split.tag !== 'latest' || reference.endsWith(':latest');
      if (options.allTags && explicitTag) throw new Error('tag can be used only with --all-tags/-a');
      if (!options.allTags && !explicitTag && !options.quiet) ctx.stdout.write('Using default tag: latest\n');
      const tag = options.allTags ? undefined : split.tag;
      const progress = ctx.client().pullImage({ fromImage: split.name, tag, platform: options.platform, allTags: options.allTags }, await registryAuthHeader(split.name));
      if (options.quiet) for await (const message of progress) void message;
      else await printProgress(progress, ctx.stdout);
      const shown = options.allTags ? split.name : tag ? `${split.name}:${tag}` : split.name;
      ctx.stdout.write(`${qualifiedName(shown)}\n`);
    });
}
