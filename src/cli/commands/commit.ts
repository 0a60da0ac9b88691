import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { splitImageTag } from '../image-name.js';
import { collect } from '../option-values.js';
import { boolFlag } from '../signal-proxy.js';

interface CommitFlags {
  author?: string;
  change?: string[];
  message?: string;
  pause?: string | boolean;
}

export function commitCommand(ctx: CliContext): Command {
  return new Command('commit')
    .description("Create a new image from a container's changes")
    .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <string>', 'Commit message')
    .option('-p, --pause [bool]', 'Pause container during commit (default true)')
    .argument('<container>')
    .argument('[repository[:tag]]')
    .action(async (container: string, reference: string | undefined, flags: CommitFlags) => {
      // As the docker CLI: a reference without a tag is committed as :latest.
      const target = reference ? splitImageTag(reference) : undefined;
      const { Id } = await ctx.client().commitContainer({
        container,
        repo: target?.name,
        tag: target?.tag,
        author: flags.author,
        comment: flags.message,
        changes: flags.change,
        pause: boolFlag(typeof flags.pause === 'string' ? flags.pause.replace(/^=/, '') : flags.pause, true),
      });
      ctx.stdout.write(`${Id}\n`);
    });
}
