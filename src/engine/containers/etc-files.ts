import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic-file.js';

const HOSTS_BASE = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

// Docker's fallback when the host only has loopback resolvers, which a container cannot reach.
const FALLBACK_NAMESERVERS = ['nameserver 8.8.8.8', 'nameserver 8.8.4.4'];

/** The host's resolv.conf without loopback nameservers, as moby's resolvconf.FilterResolvDNS. */
export function filterResolvConf(hostResolvConf: string): string {
  const lines = hostResolvConf.split('\n').filter((line) => !/^\s*nameserver\s+(127\.|::1\b|0:0:0:0:0:0:0:1)/.test(line));
  const hasNameserver = lines.some((line) => /^\s*nameserver\s/.test(line));
  const body = lines.join('\n').trim();
  return (hasNameserver ? body : [body, ...FALLBACK_NAMESERVERS].filter(Boolean).join('\n')) + '\n';
}

/** Writes /etc/hostname, /etc/hosts and /etc/resolv.conf for a container (bind-mounted at start). */
export async function writeEtcFiles(
  paths: { hostname: string; hosts: string; resolvConf: string },
  hostname: string,
): Promise<void> {
  const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  await Promise.all([
    writeFileAtomic(paths.hostname, `${hostname}\n`, { durable: false }),
    writeFileAtomic(paths.hosts, [...HOSTS_BASE, ''].join('\n'), { durable: false }),
    writeFileAtomic(paths.resolvConf, filterResolvConf(hostResolv), { durable: false }),
  ]);
}

export interface HostsEntry {
  ip: string;
  names: string[];
}

/** /etc/hosts: Docker's base lines, then --add-host and --link entries, then the container's own addresses. */
export function hostsContent(entries: readonly HostsEntry[]): string {
  return [...HOSTS_BASE, ...entries.map((e) => `${e.ip}\t${e.names.join(' ')}`), ''].join('\n');
}

export interface DnsSettings {
  /** --dns */
  servers: readonly string[];
  /** --dns-search ("." alone: none) */
  search: readonly string[];
  /** --dns-option */
  options: readonly string[];
}

/**
 * /etc/resolv.conf as moby's resolvconf builds it: the host's (loopback resolvers filtered out),
 * with --dns, --dns-search and --dns-option replacing its lines of the kind; on a network with a
 * name server of its own (`networkServers`), that server comes first.
 */
export function resolvConfContent(hostResolvConf: string, dns: DnsSettings, networkServers: readonly string[] = []): string {
  const filtered = filterResolvConf(hostResolvConf).split('\n');
  const hostLines = (keyword: string) => filtered.filter((line) => new RegExp(`^\\s*${keyword}\\s`).test(line));
  const servers = networkServers.length > 0 ? [...networkServers, ...dns.servers] : dns.servers.length > 0 ? dns.servers : hostLines('nameserver').map((l) => l.trim().split(/\s+/)[1]);
  const search = dns.search.length > 0 ? (dns.search.length === 1 && dns.search[0] === '.' ? [] : [`search ${dns.search.join(' ')}`]) : hostLines('(search|domain)');
  const options = dns.options.length > 0 ? [`options ${dns.options.join(' ')}`] : hostLines('options');
  return [...servers.map((s) => `nameserver ${s}`), ...search.map((l) => l.trim()), ...options.map((l) => l.trim()), ''].join('\n');
}

/** Rewrites a container's /etc/hosts and /etc/resolv.conf for a run (the files are bound, so this is what it sees). */
export async function writeRunEtcFiles(paths: { hosts: string; resolvConf: string }, hosts: string, resolvConf: string): Promise<void> {
  await Promise.all([
    writeFileAtomic(paths.hosts, hosts, { durable: false }),
    writeFileAtomic(paths.resolvConf, resolvConf, { durable: false }),
  ]);
}
