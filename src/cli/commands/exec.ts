import { Command } from 'commander';
import type { EngineClient } from '../../client/index.js';
import { startAttachSession } from '../attach-session.js';
import { CliExit } from '../cli-exit.js';
import { resolveEnv } from '../container-flags.js';
import { readKeyValueFile } from '../run-option-values.js';
import type { CliContext } from '../context.js';
import { collect } from '../option-values.js';
import { terminalSize, watchResize } from '../terminal.js';
import { chosenDetachKeys } from '../detach-keys.js';

interface ExecFlags {
  detach?: boolean;
  detachKeys?: string;
  env?: string[];
  envFile?: string[];
  interactive?: boolean;
  privileged?: boolean;
  tty?: boolean;
  user?: string;
  workdir?: string;
}

/**
 * `docker exec` as the docker CLI does it: create the exec, then either start it detached or
 * start it on a hijacked connection, follow its streams to their end and exit with the exit code
 * the daemon recorded (0, the command's status, or 126/127 when it could not start).
 */
export function execCommand(ctx: CliContext): Command {
  return new Command('exec')
    .description('Execute a command in a running container')
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', collect)
    .option('--env-file <file>', 'Read in a file of environment variables', collect)
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--privileged', 'Give extended privileges to the command')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <user>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .argument('<container>')
    .argument('<command...>')
    .passThroughOptions()
    .action(async (container: string, command: string[], flags: ExecFlags) => {
      const tty = flags.tty ?? false;
      const interactive = flags.interactive ?? false;
      if (interactive && tty && !ctx.stdin.isTTY) throw new CliExit(1, 'the input device is not a TTY');
      const client = ctx.client();
      const env = [...(flags.envFile ?? []).flatMap((path) => readKeyValueFile(path, true)), ...(flags.env ?? []).flatMap(resolveEnv)];
      const size = tty ? terminalSize(ctx.stdout) : undefined;
      const detachKeys = chosenDetachKeys(ctx, flags.detachKeys);
      const { Id } = await client.createExec(container, {
        User: flags.user ?? '',
        Privileged: flags.privileged ?? false,
        Tty: tty,
        ConsoleSize: size ?? null,
        AttachStdin: interactive && !flags.detach,
        AttachStdout: !flags.detach,
        AttachStderr: !flags.detach,
        DetachKeys: detachKeys ?? '',
        Env: env.length > 0 ? env : null,
        WorkingDir: flags.workdir ?? '',
        Cmd: command,
      });
      if (flags.detach) {
        await client.startExecDetached(Id, { tty });
        return;
      }
      const socket = await client.attachExec(Id, { tty, consoleSize: size });
      const session = startAttachSession(ctx, socket, { tty, stdin: interactive, detachKeys });
      const stopResizing = tty ? followTerminalSize(ctx, client, Id) : () => undefined;
      try {
        const ended = await Promise.race([session.output.then(() => 'ended' as const), session.detached.then(() => 'detached' as const)]);
        if (ended === 'detached') return;
      } finally {
        stopResizing();
        session.close();
      }
      const { ExitCode } = await client.inspectExec(Id);
      if (ExitCode !== null && ExitCode !== 0) throw new CliExit(ExitCode);
    });
}

/** Keeps the exec's terminal the size of the local one. */
function followTerminalSize(ctx: CliContext, client: EngineClient, id: string): () => void {
  const resize = () => {
    const size = terminalSize(ctx.stdout);
    // A resize racing the exec's end fails; the docker CLI ignores that too.
    if (size) client.resizeExec(id, { height: size[0], width: size[1] }).catch(() => undefined);
  };
  resize();
  return watchResize(ctx.stdout, resize);
}
