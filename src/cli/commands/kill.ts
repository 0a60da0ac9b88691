import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';

export function killCommand(ctx: CliContext): Command {
  return new Command('kill')
    .description('Kill one or more running containers')
    .option('-s, --signal <signal>', 'Signal to send to the container')
    .argument('<container...>')
    .action(async (names: string[], flags: { signal?: string }) => {
      await forEachTarget(ctx, names, (name) => ctx.client().killContainer(name, flags.signal));
    });
}
