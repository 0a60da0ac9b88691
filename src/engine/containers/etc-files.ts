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
