/**
 * The client side of an attached container: output from the hijacked socket to the local
 * stdout/stderr (demultiplexed unless there is a TTY), stdin to the socket with a half-close at
 * EOF, and the terminal kept in step with the container's TTY.
 */
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { containerOutputSink, type EngineClient, type WaitCondition } from '../client/index.js';
import type { CliContext } from './context.js';
import { enterRawMode, terminalSize, watchResize } from './terminal.js';
import { DEFAULT_DETACH_KEYS, DetachKeysFilter, parseDetachKeys } from './detach-keys.js';
import { forwardSignals } from './signal-proxy.js';

export interface AttachSession {
  /** Settles when the daemon closes the stream (the container's output has ended). */
  output: Promise<void>;
  /** Settles when the user typed the detach keys (the container keeps running). */
  detached: Promise<void>;
  /** Starts forwarding the terminal size (and signals, with sigProxy); call after the container has started. */
  followTerminalSize(client: EngineClient, id: string): void;
  /** Gives the terminal back: cooked mode, no resize listener. */
  close(): void;
}

export function startAttachSession(
  ctx: CliContext,
  socket: Socket,
  options: { tty: boolean; stdin: boolean; detachKeys?: string; sigProxy?: boolean },
): AttachSession {
  const output = pipeline(socket, containerOutputSink(options.tty, ctx.stdout, ctx.stderr));
  let detach = () => {};
  const detached = new Promise<void>((resolve) => (detach = resolve));
  let input: NodeJS.ReadableStream = ctx.stdin;
  if (options.stdin && options.tty) {
    // As the docker CLI: the escape sequence is read on a terminal and never reaches the container.
    input = ctx.stdin.pipe(new DetachKeysFilter(parseDetachKeys(options.detachKeys ?? DEFAULT_DETACH_KEYS), detach));
  }
  if (options.stdin) {
    // pipe() ends the socket when stdin ends: that end() is the half-close the daemon waits for.
    input.pipe(socket);
  } else {
    socket.end();
  }
  const restoreMode = options.tty && options.stdin ? enterRawMode(ctx.stdin) : () => undefined;
  let stopWatching = () => {};
  let stopForwarding = () => {};
  return {
    output,
    detached,
    followTerminalSize(client, id) {
      if (options.sigProxy && !options.tty) stopForwarding = forwardSignals(client, id);
      if (!options.tty) return;
      const resize = () => {
        const size = terminalSize(ctx.stdout);
        // A resize racing the container's exit gets 409; the docker CLI ignores it too.
        if (size) client.resizeContainer(id, { height: size[0], width: size[1] }).catch(() => undefined);
      };
      resize();
      stopWatching = watchResize(ctx.stdout, () => {
        client.killContainer(id, 'WINCH').catch(() => undefined);
        resize();
      });
    },
    close() {
      stopWatching();
      stopForwarding();
      restoreMode();
      ctx.stdin.unpipe(socket);
      ctx.stdin.pause();
      socket.destroy();
    },
  };
}

/**
 * Waits for the container (the wait's headers must arrive before `start` runs, or a quick exit
 * could be missed), starts it, follows its output to the end, and returns its exit code.
 */
export async function followUntilExit(
  client: EngineClient,
  id: string,
  session: AttachSession,
  condition: WaitCondition,
  start: () => Promise<void>,
): Promise<number> {
  try {
    const wait = await client.waitContainer(id, condition);
    await start();
    session.followTerminalSize(client, id);
    const ended = await Promise.race([session.output.then(() => 'exited' as const), session.detached.then(() => 'detached' as const)]);
    if (ended === 'detached') {
      wait.abandon();
      return 0;
    }
    return (await wait.result).StatusCode;
  } finally {
    session.close();
  }
}
