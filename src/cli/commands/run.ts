import { Command } from 'commander';
import { DaemonError, type EngineClient, type WaitCondition } from '../../client/index.js';
import { attachAndWait, followUntilExit, startAttachSession } from '../attach-session.js';
import { CliExit, describeError, startErrorExitCode } from '../cli-exit.js';
import { addContainerFlags, attachTargets, buildCreateRequest, type ContainerFlags } from '../container-flags.js';
import type { CliContext } from '../context.js';
import { createContainerPulling } from '../create-container.js';
import { terminalSize } from '../terminal.js';
import { boolFlag } from '../signal-proxy.js';
import { chosenDetachKeys } from '../detach-keys.js';

/**
 * `berth run`: create (pulling a missing image), attach and wait (at once), start — each step only
 * after the previous answered — then exit with the container's code.
 */
export function runCommand(ctx: CliContext): Command {
  return addContainerFlags(new Command('run'))
    .description('Create and run a new container from an image')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .option('--sig-proxy [bool]', 'Proxy received signals to the process (default true)')
    .action(async (image: string, command: string[], flags: RunFlags) => {
      try {
        throw new CliExit(await runContainer(ctx, image, command, flags));
      } catch (err) {
        throw asRunFailure(err);
      }
    });
}

type RunFlags = ContainerFlags & { detachKeys?: string; sigProxy?: string | boolean };

async function runContainer(ctx: CliContext, image: string, command: string[], flags: RunFlags): Promise<number> {
  const client = ctx.client();
  const consoleSize = (flags.tty && terminalSize(ctx.stdout)) || [0, 0];
  const request = buildCreateRequest(image, command, flags, consoleSize);
  const id = await createContainerPulling(client, request, flags, ctx.stderr);
  const condition: WaitCondition = flags.rm ? 'removed' : 'next-exit';

  if (flags.detach) {
    const wait = await client.waitContainer(id, condition);
    await startContainer(client, id);
    wait.abandon();
    ctx.stdout.write(`${id}\n`);
    return 0;
  }

  const attach = attachTargets(flags);
  const detachKeys = chosenDetachKeys(ctx, flags.detachKeys);
  const { socket, wait } = await attachAndWait(
    client,
    id,
    { stdin: attach.has('stdin'), stdout: attach.has('stdout'), stderr: attach.has('stderr'), detachKeys },
    condition,
  );
  // The start goes out before the session is set up: the attached socket keeps what arrives until
  // it is read, and the start's round trip is the longest of a run. (followUntilExit awaits it; the
  // catch only keeps a session that fails to set up from leaving it unhandled.)
  const started = startContainer(client, id);
  started.catch(() => undefined);
  const session = startAttachSession(ctx, socket, {
    tty: flags.tty ?? false,
    stdin: attach.has('stdin'),
    detachKeys,
    sigProxy: boolFlag(flags.sigProxy, true),
  });
  return followUntilExit(client, id, session, wait, started);
}

/** A failed start ends `run` with 127/126/125 chosen from the daemon's message. */
async function startContainer(client: EngineClient, id: string): Promise<void> {
  try {
    await client.startContainer(id);
  } catch (err) {
    if (err instanceof DaemonError) throw new CliExit(startErrorExitCode(err.message), runErrorText(err));
    throw err;
  }
}

/** Every other failure of `run` exits 125 with the docker CLI's "run --help" hint. */
function asRunFailure(err: unknown): CliExit {
  return err instanceof CliExit ? err : new CliExit(125, runErrorText(err));
}

function runErrorText(err: unknown): string {
  return `berth: ${describeError(err)}\n\nRun 'berth run --help' for more information`;
}
