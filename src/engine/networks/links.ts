/**
 * Legacy links (`--link name:alias`, default bridge): the linked container's address in /etc/hosts
 * under the alias, its name and short id, and Docker's environment variables (moby's
 * links.Link.ToEnv): ALIAS_NAME, ALIAS_PORT and per exposed port ALIAS_PORT_<port>_<PROTO>[_ADDR,
 * _PORT, _PROTO], and the linked container's own environment as ALIAS_ENV_<name>.
 */
import { conflict } from '../../common/errors.js';
import { shortId } from '../../common/ids.js';
import type { HostsEntry } from '../containers/etc-files.js';
import type { ContainerRecord } from '../containers/model.js';

export interface ResolvedLink {
  peer: ContainerRecord;
  alias: string;
  address: string;
}

/** Each link's container, which must run on the default bridge. */
export function resolveLinks(record: ContainerRecord, resolve: (idOrName: string) => ContainerRecord): ResolvedLink[] {
  const links = Array.isArray(record.hostConfig.Links) ? (record.hostConfig.Links as string[]) : [];
  return links.map((link) => {
    const [target = '', aliasPath = target] = link.split(':');
    const peer = resolve(target);
    const address = peer.networks?.bridge?.IPAddress;
    if (!peer.state.Running || !address) throw conflict(`Cannot link to a non running container: ${peer.name} AS ${record.name}/${aliasPath.split('/').pop()}`);
    return { peer, alias: aliasPath.split('/').pop()!, address };
  });
}

export function linkHosts(links: readonly ResolvedLink[]): HostsEntry[] {
  return links.map(({ peer, alias, address }) => ({ ip: address, names: [...new Set([alias, shortId(peer.id), peer.name.slice(1)])] }));
}

const SKIPPED_ENV = new Set(['HOME', 'PATH', 'HOSTNAME']);

export function linkEnv(record: ContainerRecord, links: readonly ResolvedLink[]): string[] {
  return links.flatMap(({ peer, alias, address }) => {
    const prefix = alias.toUpperCase().replace(/-/g, '_');
    const ports = Object.keys(peer.config.ExposedPorts ?? {})
      .map((key) => {
        const [port = '', proto = 'tcp'] = key.split('/');
        return { port: Number(port), proto };
      })
      .sort((a, b) => a.port - b.port);
    const env = [`${prefix}_NAME=${record.name}/${alias}`];
    if (ports[0]) env.push(`${prefix}_PORT=${ports[0].proto}://${address}:${ports[0].port}`);
    for (const { port, proto } of ports) {
      const key = `${prefix}_PORT_${port}_${proto.toUpperCase()}`;
      env.push(`${key}=${proto}://${address}:${port}`, `${key}_ADDR=${address}`, `${key}_PORT=${port}`, `${key}_PROTO=${proto}`);
    }
    for (const entry of peer.config.Env ?? []) {
      const at = entry.indexOf('=');
      const name = at < 0 ? entry : entry.slice(0, at);
      if (!SKIPPED_ENV.has(name)) env.push(`${prefix}_ENV_${name}=${at < 0 ? '' : entry.slice(at + 1)}`);
    }
    return env;
  });
}
