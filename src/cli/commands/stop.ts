import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';
import { integer } from '../option-values.js';

export function stopCommand(ctx: CliContext): Command {
  return new Command('stop')
    .description('Stop one or more running containers')
    .option('-s, --signal <signal>', 'Signal to send to the container')
    .option('-t, --time <seconds>', 'Seconds to wait before killing the container', integer)
    .argument('<container...>')
    .action(async (names: string[], flags: { signal?: string; time?: number }) => {
      await forEachTarget(ctx, names, (name) =>
        ctx.client().stopContainer(name, { timeout: flags.time, signal: flags.signal }),
      );
    });
}
