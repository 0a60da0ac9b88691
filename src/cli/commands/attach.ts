import { Command } from 'commander';
import { followUntilExit, startAttachSession } from '../attach-session.js';
import { CliExit } from '../cli-exit.js';
import type { CliContext } from '../context.js';

export function attachCommand(ctx: CliContext): Command {
  return new Command('attach')
    .description('Attach local standard input, output, and error streams to a running container')
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .argument('<container>')
    .action(async (name: string, flags: { stdin: boolean; detachKeys?: string }) => {
      const client = ctx.client();
      const { Id, Config, State } = await client.inspectContainer(name);
      if (!State.Running) throw new CliExit(1, 'You cannot attach to a stopped container, start it first');
      const stdin = flags.stdin && (Config.OpenStdin ?? false);
      const socket = await client.attachContainer(Id, { stdin, stdout: true, stderr: true });
      const session = startAttachSession(ctx, socket, { tty: Config.Tty ?? false, stdin, detachKeys: flags.detachKeys });
      const alreadyRunning = async () => undefined;
      throw new CliExit(await followUntilExit(client, Id, session, 'next-exit', alreadyRunning));
    });
}
