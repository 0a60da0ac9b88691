import { Command, Option } from 'commander';
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
    .option('-t, --timeout <seconds>', 'Seconds to wait before killing the container', integer)
    // docker's older spelling, deprecated and hidden there too.
    .addOption(new Option('--time <seconds>').argParser(integer).hideHelp())
    .argument('<container...>')
    .action(async (names: string[], flags: { signal?: string; timeout?: number; time?: number }) => {
      const timeout = flags.timeout ?? flags.time;
      await forEachTarget(ctx, names, (target) => call(target, { timeout, signal: flags.signal }));
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
