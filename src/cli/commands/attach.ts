import { Command } from 'commander';
import { attachAndWait, followUntilExit, startAttachSession } from '../attach-session.js';
import { CliExit } from '../cli-exit.js';
import type { CliContext } from '../context.js';
import { boolFlag } from '../signal-proxy.js';
import { chosenDetachKeys } from '../detach-keys.js';

interface AttachFlags {
  stdin: boolean;
  detachKeys?: string;
  sigProxy?: string | boolean;
}

export function attachCommand(ctx: CliContext): Command {
  return new Command('attach')
    .description('Attach local standard input, output, and error streams to a running container')
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .option('--sig-proxy [bool]', 'Proxy all received signals to the process (default true)')
    .argument('<container>')
    .action(async (name: string, flags: AttachFlags) => {
      const client = ctx.client();
      const { Id, Config, State } = await client.inspectContainer(name);
      // The docker CLI's own checks, before it asks the daemon.
      if (!State.Running) throw new CliExit(1, 'You cannot attach to a stopped container, start it first');
      if (State.Paused) throw new CliExit(1, 'You cannot attach to a paused container, unpause it first');
      if (State.Restarting) throw new CliExit(1, 'You cannot attach to a restarting container, wait until it is running');
      const stdin = flags.stdin && (Config.OpenStdin ?? false);
      const detachKeys = chosenDetachKeys(ctx, flags.detachKeys);
      const { socket, wait } = await attachAndWait(client, Id, { stdin, stdout: true, stderr: true, detachKeys }, 'next-exit');
      const tty = Config.Tty ?? false;
      const session = startAttachSession(ctx, socket, { tty, stdin, detachKeys, sigProxy: boolFlag(flags.sigProxy, true) });
      let detached = false;
      void session.detached.then(() => (detached = true));
      const code = await followUntilExit(client, Id, session, wait, Promise.resolve());
      // As the docker CLI's attach (run and start -a end a detach with 0 and say nothing).
      if (detached) throw new CliExit(1, 'read escape sequence');
      throw new CliExit(code);
    });
}
