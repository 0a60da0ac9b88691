/**
 * Where and how to reach a registry, as dockerd decides it: HTTPS with the system roots plus the
 * CA files of certs.d/<host:port>/ (client certificate pairs beside them); plain HTTP allowed for
 * `insecure-registries` (names or CIDRs) and for 127.0.0.0/8 and ::1, tried after HTTPS; and for
 * docker.io the `registry-mirrors` first.
 */
import { readdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { errnoCode, invalidParameter } from '../../common/errors.js';

export interface RegistryHostsConfig {
  /** daemon.json `insecure-registries`: "host:port", "host" or a CIDR such as "10.0.0.0/8". */
  insecureRegistries: string[];
  /** daemon.json `registry-mirrors`: base URLs tried before Docker Hub for docker.io images. */
  registryMirrors: string[];
  /** The certs.d folder (/etc/berth/certs.d), one sub-folder per host:port. */
  certsDir: string;
}

export interface TlsFiles {
  ca?: string[];
  cert?: string;
  key?: string;
}

/** One base URL to try for a registry, with what a connection to it needs. */
export interface Endpoint {
  /** "https://127.0.0.1:5000", no trailing slash. */
  base: string;
  /** The host:port as the reference names it (the key of certs.d and of credentials). */
  registry: string;
  tls?: TlsFiles & { insecureSkipVerify?: boolean };
  /** A mirror: failures fall through to the next endpoint. */
  mirror: boolean;
}

export const DOCKER_HUB = 'docker.io';
const HUB_ENDPOINT = 'https://registry-1.docker.io';

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  if (isIP(ip) !== 4 || isIP(net) !== 4) return ip === net;
  const bits = Number(bitsText);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((ipv4ToInt(ip) & mask) >>> 0) === ((ipv4ToInt(net) & mask) >>> 0);
}

/** "127.0.0.1:5000" → "127.0.0.1", "[::1]:5000" → "::1". */
function hostOf(registry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(registry);
  if (bracketed) return bracketed[1];
  return registry.replace(/:\d+$/, '');
}

export function checkHostsConfig(config: RegistryHostsConfig): void {
  for (const mirror of config.registryMirrors) {
    if (!/^https?:\/\/[^/]+\/?$/.test(mirror)) throw invalidParameter(`invalid mirror: "${mirror}" is not a valid URI (scheme://host[:port]/ with no path)`);
  }
  for (const entry of config.insecureRegistries) {
    if (entry.includes('://')) throw invalidParameter(`insecure registry ${entry} should not contain '://'`);
  }
}

export class RegistryHosts {
  constructor(private readonly config: RegistryHostsConfig) {
    checkHostsConfig(config);
  }

  /** Docker's rule: listed by name, or an IP (as dialled) inside a listed CIDR, or loopback. */
  isInsecure(registry: string): boolean {
    const host = hostOf(registry);
    if (host === 'localhost' || host === '::1' || inCidr(host, '127.0.0.0/8')) return true;
    return this.config.insecureRegistries.some((entry) => entry === registry || entry === host || (entry.includes('/') && inCidr(host, entry)));
  }

  /** The endpoints to try in order for a registry (mirrors only for docker.io and pulls). */
  async endpoints(registry: string, purpose: 'pull' | 'push' | 'login'): Promise<Endpoint[]> {
    const list: Endpoint[] = [];
    if (registry === DOCKER_HUB && purpose === 'pull') {
      for (const mirror of this.config.registryMirrors) {
        const base = mirror.replace(/\/$/, '');
        const host = new URL(base).host;
        list.push({ base, registry, mirror: true, tls: base.startsWith('https:') ? await this.tlsFiles(host) : undefined });
      }
    }
    const host = registry === DOCKER_HUB ? new URL(HUB_ENDPOINT).host : registry;
    const tls = await this.tlsFiles(host);
    list.push({ base: `https://${host}`, registry, mirror: false, tls: this.isInsecure(registry) ? { ...tls, insecureSkipVerify: true } : tls });
    if (this.isInsecure(registry)) list.push({ base: `http://${host}`, registry, mirror: false });
    return list;
  }

  /** certs.d/<host>/: every *.crt a CA (added to the system roots), *.cert with its *.key a client pair. */
  private async tlsFiles(host: string): Promise<TlsFiles> {
    const dir = join(this.config.certsDir, host);
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return {};
      throw err;
    }
    const files: TlsFiles = {};
    const cas = await Promise.all(names.filter((n) => n.endsWith('.crt')).map((n) => readFile(join(dir, n), 'utf8')));
    if (cas.length > 0) files.ca = [...rootCertificates, ...cas];
    const cert = names.find((n) => n.endsWith('.cert'));
    if (cert) {
      const key = cert.replace(/\.cert$/, '.key');
      if (!names.includes(key)) throw invalidParameter(`missing key ${key} for client certificate ${cert} in ${dir}`);
      files.cert = await readFile(join(dir, cert), 'utf8');
      files.key = await readFile(join(dir, key), 'utf8');
    }
    for (const name of names.filter((n) => n.endsWith('.key'))) {
      if (!names.includes(name.replace(/\.key$/, '.cert'))) throw invalidParameter(`missing client certificate ${name.replace(/\.key$/, '.cert')} for key ${name} in ${dir}`);
    }
    return files;
  }
}
