import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';

export function rmCommand(ctx: CliContext): Command {
  return new Command('rm')
    .description('Remove one or more containers')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .argument('<container...>')
    .action(async (names: string[], flags: { force?: boolean; volumes?: boolean }) => {
      await forEachTarget(ctx, names, (name) => ctx.client().removeContainer(name, flags));
    });
}
