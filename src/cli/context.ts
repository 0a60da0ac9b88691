import { EngineClient, resolveSocketPath } from '../client/index.js';

/** What a command needs from its surroundings; tests can hand in their own streams. */
export interface CliContext {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  /** The daemon client, made on first use from `-H` or the environment. */
  client(): EngineClient;
  /** Releases the client's connections. */
  close(): void;
}

export function createContext(host: () => string | undefined): CliContext {
  let client: EngineClient | undefined;
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    client: () => (client ??= new EngineClient(resolveSocketPath(host()))),
    close: () => client?.close(),
  };
}
