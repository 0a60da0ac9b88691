import { DaemonError, ProgressStreamError, describeAddress } from '../client/index.js';

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
  const { code, address, port } = err as { code?: unknown; address?: unknown; port?: unknown };
  if ((code === 'ECONNREFUSED' || code === 'ENOENT') && typeof address === 'string') {
    // node names a unix socket by its path, a TCP peer by its address and port.
    const daemon = describeAddress(typeof port === 'number' ? { host: address, port } : { path: address });
    return `Cannot connect to the Berth daemon at ${daemon}. Is berthd running?`;
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
