/**
 * The client side of an attached container: output from the hijacked socket to the local
 * stdout/stderr (demultiplexed unless there is a TTY), stdin to the socket with a half-close at
 * EOF, and the terminal kept in step with the container's TTY.
 */
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { containerOutputSink, type AttachOptions, type EngineClient, type PendingWait, type WaitCondition } from '../client/index.js';
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
  if (options.stdin) {
    // process.stdin is made here only when it is attached: making it costs a call milliseconds.
    let input: NodeJS.ReadableStream = ctx.stdin;
    if (options.tty) {
      // As the docker CLI: the escape sequence is read on a terminal and never reaches the container.
      input = ctx.stdin.pipe(new DetachKeysFilter(parseDetachKeys(options.detachKeys ?? DEFAULT_DETACH_KEYS), detach));
    }
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
      // Only a stdin in use (see above).
      if (options.stdin) {
        ctx.stdin.unpipe(socket);
        ctx.stdin.pause();
      }
      socket.destroy();
    },
  };
}

/**
 * Attaches to the container and waits for it, both at once: each must be in place before the
 * container starts (or its first output or a quick exit could be missed), and neither needs the
 * other, so they take one round trip where the docker CLI, sending them in turn, takes two. When
 * one fails, what the other set up is released.
 */
export async function attachAndWait(
  client: EngineClient,
  id: string,
  attach: AttachOptions,
  condition: WaitCondition,
): Promise<{ socket: Socket; wait: PendingWait }> {
  const [socket, wait] = await Promise.allSettled([client.attachContainer(id, attach), client.waitContainer(id, condition)]);
  if (socket.status === 'fulfilled' && wait.status === 'fulfilled') return { socket: socket.value, wait: wait.value };
  if (socket.status === 'fulfilled') socket.value.destroy();
  if (wait.status === 'fulfilled') wait.value.abandon();
  throw socket.status === 'rejected' ? socket.reason : (wait as PromiseRejectedResult).reason;
}

/**
 * Follows the container's output to the end once `started` (its start, sent once the wait was in
 * place: see attachAndWait) has settled, and returns its exit code.
 */
export async function followUntilExit(
  client: EngineClient,
  id: string,
  session: AttachSession,
  wait: PendingWait,
  started: Promise<void>,
): Promise<number> {
  try {
    await started;
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
