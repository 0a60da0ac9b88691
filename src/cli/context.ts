import { EngineClient, resolveDaemonAddress } from '../client/index.js';
import { readClientConfig, resolveConfigDir, type ClientConfig } from './client-config.js';

/** What a command needs from its surroundings; tests can hand in their own streams. */
export interface CliContext {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  /** The daemon client, made on first use from `-H` or the environment. */
  client(): EngineClient;
  /** The client configuration directory: `--config`, DOCKER_CONFIG, or ~/.docker. */
  configDir(): string;
  /** config.json of configDir(), read on first use; empty when there is none. */
  config(): ClientConfig;
  /** Releases the client's connections. */
  close(): void;
}

/**
 * A reader that stops early (`berth logs x | head -1`) closes the pipe: the docker CLI dies of
 * SIGPIPE quietly then, while node, which ignores SIGPIPE, would report an unhandled EPIPE.
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  if (stream.listenerCount('error') === 0) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(0);
    });
  }
  return stream;
}

/** `host` and `configDir` give the global `-H` and `--config` values once the line is parsed. */
export function createContext(host: () => string | undefined, configDir: () => string | undefined = () => undefined): CliContext {
  let client: EngineClient | undefined;
  let config: ClientConfig | undefined;
  // Getters: node makes each stdio stream on first use, and stdin alone costs milliseconds.
  const ctx: CliContext = {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return quietOnClosedPipe(process.stdout);
    },
    get stderr() {
      return process.stderr;
    },
    client: () => (client ??= new EngineClient(resolveDaemonAddress(host()), ctx.config().HttpHeaders)),
    configDir: () => resolveConfigDir(configDir()),
    config: () => (config ??= readClientConfig(ctx.configDir(), (text) => ctx.stderr.write(text))),
    close: () => client?.close(),
  };
  return ctx;
}
