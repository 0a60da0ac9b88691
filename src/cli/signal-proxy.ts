/**
 * `--sig-proxy`: signals the CLI receives while attached to a container without a TTY go to the
 * container instead (Ctrl-C then interrupts the container's program, not only the CLI), as the
 * docker CLI's ForwardAllSignals does. With a TTY the terminal carries them as bytes.
 */
import type { EngineClient } from '../client/index.js';

// Every catchable signal except those about the CLI's own process and terminal (SIGCHLD, SIGPIPE,
// SIGWINCH, SIGURG), which the docker CLI skips too. Node reserves SIGUSR1 for its inspector.
const FORWARDED: NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU',
  'SIGVTALRM', 'SIGPROF', 'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGTRAP', 'SIGXCPU', 'SIGXFSZ',
]; // prettier-ignore

/** Forwards signals to the container until the returned function is called. */
export function forwardSignals(client: EngineClient, id: string): () => void {
  const handlers = FORWARDED.map((signal) => {
    const handler = () => {
      client.killContainer(id, signal.slice(3)).catch(() => undefined); // it may have exited meanwhile
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

/** pflag's reading of a bool flag's value (`--sig-proxy=false`); absent value means true. */
export function boolFlag(value: string | boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  return !['0', 'f', 'false', 'F', 'FALSE', 'False'].includes(value);
}
