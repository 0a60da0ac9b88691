import { DaemonError, ProgressStreamError } from '../client/index.js';

/** Ends the command with an exit code and, optionally, a message for stderr. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
    this.name = 'CliExit';
  }
}

/** The line the docker CLI prints for an error: daemon answers get their familiar prefix. */
export function describeError(err: unknown): string {
  if (err instanceof DaemonError) return `Error response from daemon: ${err.message}`;
  if (err instanceof ProgressStreamError) return err.message;
  const code = (err as { code?: unknown }).code;
  const address = (err as { address?: unknown }).address;
  if ((code === 'ECONNREFUSED' || code === 'ENOENT') && typeof address === 'string') {
    return `Cannot connect to the Berth daemon at unix://${address}. Is berthd running?`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * The exit code `docker run` uses when start fails, chosen from the daemon's message exactly as
 * the docker CLI does (its runStartContainerErr): not found → 127, not executable → 126.
 */
export function startErrorExitCode(message: string): number {
  if (
    message.includes('executable file not found') ||
    message.includes('no such file or directory') ||
    message.includes('system cannot find the file specified')
  ) {
    return 127;
  }
  if (message.includes('permission denied') || message.includes('is a directory')) return 126;
  return 125;
}
