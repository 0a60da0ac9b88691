import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';

export function waitCommand(ctx: CliContext): Command {
  return new Command('wait')
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<container...>')
    .action(async (names: string[]) => {
      await forEachTarget(ctx, names, async (name) => {
        const { StatusCode } = await (await ctx.client().waitContainer(name, 'not-running')).result;
        return String(StatusCode);
      });
    });
}
