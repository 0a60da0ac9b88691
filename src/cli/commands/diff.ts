import { Command } from 'commander';
import type { CliContext } from '../context.js';

const KIND_LETTERS = ['C', 'A', 'D'];

export function diffCommand(ctx: CliContext): Command {
  return new Command('diff')
    .description("Inspect changes to files or directories on a container's filesystem")
    .argument('<container>')
    .action(async (container: string) => {
      const changes = (await ctx.client().containerChanges(container)) ?? [];
      ctx.stdout.write(changes.map((change) => `${KIND_LETTERS[change.Kind]} ${change.Path}\n`).join(''));
    });
}
