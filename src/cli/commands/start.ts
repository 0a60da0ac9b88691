import { Command } from 'commander';
import { attachAndWait, followUntilExit, startAttachSession } from '../attach-session.js';
import { CliExit } from '../cli-exit.js';
import type { CliContext } from '../context.js';
import { forEachTarget } from '../each-target.js';
import { chosenDetachKeys } from '../detach-keys.js';

export function startCommand(ctx: CliContext): Command {
  return new Command('start')
    .description('Start one or more stopped containers')
    .option('-a, --attach', "Attach STDOUT/STDERR and forward signals")
    .option('-i, --interactive', "Attach container's STDIN")
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .argument('<container...>')
    .action(async (names: string[], flags: StartFlags) => {
      if (flags.attach || flags.interactive) {
        if (names.length > 1) throw new CliExit(1, 'Error: you cannot attach to multiple containers at once');
        throw new CliExit(await startAttached(ctx, names[0]!, flags));
      }
      await forEachTarget(
        ctx,
        names,
        (name) => ctx.client().startContainer(name),
        (failed) => `Error: failed to start containers: ${failed.join(', ')}`,
      );
    });
}

interface StartFlags {
  attach?: boolean;
  interactive?: boolean;
  detachKeys?: string;
}

/**
 * Attach, wait, start and stream until the daemon closes; resolves to the container's exit code.
 * Signals are forwarded to a container without a TTY, as `docker start -a` does.
 */
async function startAttached(ctx: CliContext, name: string, flags: StartFlags): Promise<number> {
  const client = ctx.client();
  const { Id, Config } = await client.inspectContainer(name);
  const stdin = (flags.interactive ?? false) && (Config.OpenStdin ?? false);
  const detachKeys = chosenDetachKeys(ctx, flags.detachKeys);
  const { socket, wait } = await attachAndWait(client, Id, { stdin, stdout: true, stderr: true, detachKeys }, 'next-exit');
  const session = startAttachSession(ctx, socket, { tty: Config.Tty ?? false, stdin, detachKeys, sigProxy: true });
  return followUntilExit(client, Id, session, wait, client.startContainer(Id));
}
