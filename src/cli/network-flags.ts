/**
 * The network flags of `run` and `create` (-p, -P, --expose, --network-alias, --ip, --link-local-ip, --dns*,
 * --add-host, --link), parsed as the docker CLI parses them (its nat.ParsePortSpec for -p), and
 * the request fields they set.
 */
import type { Command } from 'commander';
import type { ContainerCreateRequest } from '../client/index.js';
import { CliExit } from './cli-exit.js';
import { parseMac } from '../common/mac-address.js';
import { collect } from './option-values.js';

export interface NetworkFlags {
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  networkAlias?: string[];
  ip?: string;
  linkLocalIp?: string[];
  macAddress?: string;
  dns?: string[];
  dnsOption?: string[];
  dnsSearch?: string[];
  addHost?: string[];
  link?: string[];
}

export function addNetworkFlags(command: Command): Command {
  return command
    .option('-p, --publish <list>', "Publish a container's port(s) to the host", collect)
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--expose <list>', 'Expose a port or a range of ports', collect)
    .option('--network-alias <list>', 'Add network-scoped alias for the container', collect)
    .option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--link-local-ip <list>', 'Container IPv4/IPv6 link-local addresses', collect)
    .option('--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
    .option('--dns <list>', 'Set custom DNS servers', collect)
    .option('--dns-option <list>', 'Set DNS options', collect)
    .option('--dns-search <list>', 'Set custom DNS search domains', collect)
    .option('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', collect)
    .option('--link <list>', 'Add link to another container', collect);
}

/** The docker CLI checks the address (opts.ValidateMACAddress) and sends it as typed. */
function validMac(text: string): string {
  if (parseMac(text) === undefined) throw new CliExit(125, `berth: ${text} is not a valid mac address`);
  return text;
}

const invalid = (spec: string) => new CliExit(125, `invalid argument "${spec}" for "-p, --publish" flag: invalid port specification: "${spec}"`);

function range(text: string, spec: string): [number, number] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!match) throw invalid(spec);
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (first < 1 || last > 65535 || last < first) throw invalid(spec);
  return [first, last];
}

/** One -p value: [ip:][hostPort:]containerPort[/proto], ranges allowed, an IPv6 address in brackets. */
export function parsePublish(spec: string): Array<{ key: string; HostIp: string; HostPort: string }> {
  const [body = '', proto = 'tcp'] = spec.split('/');
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new CliExit(125, `invalid argument "${spec}" for "-p, --publish" flag: invalid proto: ${proto}`);
  let ip = '';
  let rest = body;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(body);
  if (bracketed) [, ip = '', rest = ''] = bracketed;
  const parts = rest.split(':');
  if (!bracketed && parts.length === 3) ip = parts.shift()!;
  if (parts.length > 2) throw invalid(spec);
  const [hostText, containerText] = parts.length === 2 ? parts : ['', parts[0]];
  const [first, last] = range(containerText ?? '', spec);
  const host = hostText ? range(hostText, spec) : undefined;
  if (host && host[1] - host[0] !== last - first && first !== last) throw invalid(spec);
  const bindings: Array<{ key: string; HostIp: string; HostPort: string }> = [];
  for (let port = first; port <= last; port++) {
    const hostPort = !host ? '' : first === last ? (host[0] === host[1] ? String(host[0]) : `${host[0]}-${host[1]}`) : String(host[0] + port - first);
    bindings.push({ key: `${port}/${proto}`, HostIp: ip, HostPort: hostPort });
  }
  return bindings;
}

function exposedKeys(spec: string): string[] {
  const [ports = '', proto = 'tcp'] = spec.split('/');
  const [first, last] = range(ports, spec);
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${proto}`);
}

/** The create request's network fields: ExposedPorts, the HostConfig's, NetworkingConfig for the mode's network. */
export function networkRequest(flags: NetworkFlags, mode: string): Pick<ContainerCreateRequest, 'ExposedPorts' | 'NetworkingConfig'> & { host: Partial<ContainerCreateRequest['HostConfig']> } {
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const spec of flags.publish ?? []) {
    for (const { key, ...binding } of parsePublish(spec)) (bindings[key] ??= []).push(binding);
  }
  const exposed = [...Object.keys(bindings), ...(flags.expose ?? []).flatMap(exposedKeys)];
  const endpoint = {
    ...(flags.networkAlias?.length && { Aliases: flags.networkAlias }),
    ...((flags.ip || flags.linkLocalIp?.length) && {
      IPAMConfig: { ...(flags.ip && { IPv4Address: flags.ip }), ...(flags.linkLocalIp?.length && { LinkLocalIPs: flags.linkLocalIp }) },
    }),
    ...(flags.macAddress && { MacAddress: validMac(flags.macAddress) }),
  };
  return {
    ...(exposed.length > 0 && { ExposedPorts: Object.fromEntries(exposed.map((key) => [key, {}])) }),
    ...(Object.keys(endpoint).length > 0 && { NetworkingConfig: { EndpointsConfig: { [mode]: endpoint } } }),
    host: {
      PortBindings: bindings,
      PublishAllPorts: flags.publishAll ?? false,
      Dns: flags.dns ?? [],
      DnsOptions: flags.dnsOption ?? [],
      DnsSearch: flags.dnsSearch ?? [],
      ExtraHosts: flags.addHost ?? null,
      Links: flags.link ?? null,
    },
  };
}
