/** Where berthd listens unless told otherwise. */
export const DEFAULT_SOCKET_PATH = '/run/berth/berth.sock';

/**
 * The unix socket to talk to: an explicit `-H` value wins, then BERTH_HOST, then DOCKER_HOST when
 * it names a unix socket (a tcp:// DOCKER_HOST is meant for another engine, so it is skipped).
 */
export function resolveSocketPath(explicitHost: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicitHost !== undefined) return parseUnixHost(explicitHost);
  if (env.BERTH_HOST) return parseUnixHost(env.BERTH_HOST);
  if (env.DOCKER_HOST?.startsWith('unix://')) return parseUnixHost(env.DOCKER_HOST);
  return DEFAULT_SOCKET_PATH;
}

function parseUnixHost(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw new Error(`unsupported host "${host}": berth speaks only to unix sockets (unix:///path)`);
}
