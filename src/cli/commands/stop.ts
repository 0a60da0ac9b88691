import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';
import { integer } from '../option-values.js';

type StopOptions = { timeout?: number; signal?: string };

/** `stop` and `restart` take the same flags and differ only in the call they make. */
function stopLikeCommand(
  ctx: CliContext,
  name: string,
  description: string,
  call: (id: string, options: StopOptions) => Promise<void>,
): Command {
  return new Command(name)
    .description(description)
    .option('-s, --signal <signal>', 'Signal to send to the container')
    .option('-t, --time <seconds>', 'Seconds to wait before killing the container', integer)
    .argument('<container...>')
    .action(async (names: string[], flags: { signal?: string; time?: number }) => {
      await forEachTarget(ctx, names, (target) => call(target, { timeout: flags.time, signal: flags.signal }));
    });
}

export function stopCommand(ctx: CliContext): Command {
  return stopLikeCommand(ctx, 'stop', 'Stop one or more running containers', (id, options) =>
    ctx.client().stopContainer(id, options),
  );
}

export function restartCommand(ctx: CliContext): Command {
  return stopLikeCommand(ctx, 'restart', 'Restart one or more containers', (id, options) =>
    ctx.client().restartContainer(id, options),
  );
}
