/** Where berthd listens unless told otherwise. */
export const DEFAULT_SOCKET_PATH = '/run/berth/berth.sock';

/** The docker CLI's port for a tcp:// host without TLS. */
const DEFAULT_TCP_PORT = 2375;

/**
 * Where the daemon is: a unix socket, or a TCP address spoken to in plain HTTP (as the docker CLI
 * speaks to a tcp:// host without TLS). Either is what node:net's connect() takes.
 */
export type DaemonAddress = { path: string } | { host: string; port: number };

/**
 * The daemon to talk to: an explicit `-H` value wins, then BERTH_HOST, then DOCKER_HOST, then
 * berthd's own socket. A host is `unix:///path` (or a bare absolute path) or `tcp://host[:port]`.
 */
export function resolveDaemonAddress(explicitHost: string | undefined, env: NodeJS.ProcessEnv = process.env): DaemonAddress {
  const host = explicitHost ?? (env.BERTH_HOST || env.DOCKER_HOST || undefined);
  return host === undefined ? { path: DEFAULT_SOCKET_PATH } : parseHost(host, env);
}

export function parseHost(host: string, env: NodeJS.ProcessEnv = process.env): DaemonAddress {
  if (host.startsWith('unix://')) return { path: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { path: host };
  if (host.startsWith('tcp://')) return parseTcpHost(host, env);
  throw new Error(`unsupported host "${host}": berth speaks to a unix socket (unix:///path) or to a TCP address without TLS (tcp://host:port)`);
}

function parseTcpHost(host: string, env: NodeJS.ProcessEnv): DaemonAddress {
  // The docker CLI speaks TLS to a tcp:// host when DOCKER_TLS_VERIFY is set; berth cannot.
  if (env.DOCKER_TLS_VERIFY) throw new Error(`DOCKER_TLS_VERIFY is set for ${host}: berth speaks to the daemon without TLS only`);
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new Error(`invalid host "${host}": expected tcp://host[:port]`);
  }
  if (url.hostname === '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.username !== '') {
    throw new Error(`invalid host "${host}": expected tcp://host[:port]`);
  }
  // URL keeps an IPv6 address in brackets; connect() wants it bare.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host: hostname, port: url.port === '' ? DEFAULT_TCP_PORT : Number(url.port) };
}

/** The address as the docker CLI writes a host: unix:///path or tcp://host:port. */
export function describeAddress(address: DaemonAddress): string {
  if ('path' in address) return `unix://${address.path}`;
  return `tcp://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
