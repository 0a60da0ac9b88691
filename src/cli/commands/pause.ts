import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';

/** `pause` and `unpause`: the cgroup freezer, one container after another, as `docker pause`. */
export function pauseCommand(ctx: CliContext): Command {
  return new Command('pause')
    .description('Pause all processes within one or more containers')
    .argument('<container...>')
    .action(async (names: string[]) => {
      await forEachTarget(ctx, names, (name) => ctx.client().pauseContainer(name));
    });
}

export function unpauseCommand(ctx: CliContext): Command {
  return new Command('unpause')
    .description('Unpause all processes within one or more containers')
    .argument('<container...>')
    .action(async (names: string[]) => {
      await forEachTarget(ctx, names, (name) => ctx.client().unpauseContainer(name));
    });
}
