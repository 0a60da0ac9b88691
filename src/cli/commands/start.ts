import { Command } from 'commander';
import { followUntilExit, startAttachSession } from '../attach-session.js';
import { CliExit } from '../cli-exit.js';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';

export function startCommand(ctx: CliContext): Command {
  return new Command('start')
    .description('Start one or more stopped containers')
    .option('-a, --attach', "Attach STDOUT/STDERR and forward signals")
    .option('-i, --interactive', "Attach container's STDIN")
    .argument('<container...>')
    .action(async (names: string[], flags: { attach?: boolean; interactive?: boolean }) => {
      if (flags.attach || flags.interactive) {
        if (names.length > 1) throw new CliExit(1, 'Error: you cannot attach to multiple containers at once');
        throw new CliExit(await startAttached(ctx, names[0]!, flags.interactive ?? false));
      }
      await forEachTarget(
        ctx,
        names,
        (name) => ctx.client().startContainer(name),
        (failed) => `Error: failed to start containers: ${failed.join(', ')}`,
      );
    });
}

/** Attach, wait, start and stream until the daemon closes; resolves to the container's exit code. */
async function startAttached(ctx: CliContext, name: string, interactive: boolean): Promise<number> {
  const client = ctx.client();
  const { Id, Config } = await client.inspectContainer(name);
  const stdin = interactive && (Config.OpenStdin ?? false);
  const socket = await client.attachContainer(Id, { stdin, stdout: true, stderr: true });
  const session = startAttachSession(ctx, socket, { tty: Config.Tty ?? false, stdin });
  return followUntilExit(client, Id, session, 'next-exit', () => client.startContainer(Id));
}
