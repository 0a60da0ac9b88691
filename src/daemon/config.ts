import { readFile } from 'node:fs/promises';
import { invalidParameter } from '../common/errors.js';
import { errnoCode } from '../common/errors.js';
import { detachKeyBytes } from '../common/detach-keys.js';
import type { LogLevel } from '../common/logger.js';
import type { RuntimeConfig } from '../runtime/conmon-runtime-set.js';
import type { AddressPool } from '../engine/networks/ipam.js';

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  storageDriver: string;
  defaultRuntime: string;
  /** daemon.json `runtimes`: further OCI runtimes by name, as dockerd. */
  runtimes: Record<string, RuntimeConfig>;
  pidfile: string;
  logLevel: LogLevel;
  /** Group that may use the API socket besides root (-G/--group); unset: `berth` if it exists. */
  group?: string;
  /** The cgroup containers are placed under (--cgroup-parent), as dockerd's; /berth by default. */
  cgroupParent: string;
  /** The init binary for `run --init` (--init-path, daemon.json `init-path`); found on PATH when unset. */
  initPath?: string;
  /** daemon.json `detach-keys`: the escape sequence of attach when the client names none. */
  detachKeys?: string;
  /** The default bridge's Linux name (-b/--bridge, daemon.json `bridge`). */
  bridge: string;
  /** The default bridge's address and subnet (--bip, "10.1.0.1/24"); from the pools when unset. */
  bip?: string;
  /** Where subnets of new networks (and of the default bridge without bip) come from. */
  defaultAddressPools?: AddressPool[];
  /** MTU of the default bridge's interfaces. */
  mtu: number;
  /** Containers on the default bridge may reach each other (--icc). */
  icc: boolean;
  /** Beyond Docker: traffic to published ports passes the host's INPUT rules (a relay instead of DNAT). */
  publishedPortsObeyHostFirewall: boolean;
  /** Registries reached over plain HTTP or with unverified TLS (daemon.json `insecure-registries`). */
  insecureRegistries: string[];
  /** Docker Hub mirrors tried first by pulls (daemon.json `registry-mirrors`). */
  registryMirrors: string[];
  /** Layers one pull downloads at once (daemon.json `max-concurrent-downloads`, Docker's 3). */
  maxConcurrentDownloads: number;
  /** Layers one push uploads at once (daemon.json `max-concurrent-uploads`, Docker's 5). */
  maxConcurrentUploads: number;
  /** Per-registry CA and client certificates (daemon.json `registry-certs-dir`, Berth's own; Docker's /etc/docker/certs.d). */
  registryCertsDir: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

export const DEFAULTS: DaemonConfig = {
  hosts: ['unix:///run/berth/berth.sock'],
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  storageDriver: 'overlay',
  defaultRuntime: 'crun',
  runtimes: {},
  pidfile: '/run/berth/berthd.pid',
  logLevel: 'info',
  cgroupParent: '/berth',
  bridge: 'berth0',
  mtu: 1500,
  icc: true,
  publishedPortsObeyHostFirewall: false,
  insecureRegistries: [],
  registryMirrors: [],
  maxConcurrentDownloads: 3,
  maxConcurrentUploads: 5,
  registryCertsDir: '/etc/berth/certs.d',
};

/** daemon.json keys, named as Docker names them, and the config field each one sets. */
const FILE_KEYS: Record<string, keyof DaemonConfig> = {
  hosts: 'hosts',
  'data-root': 'dataRoot',
  'exec-root': 'execRoot',
  'storage-driver': 'storageDriver',
  'default-runtime': 'defaultRuntime',
  runtimes: 'runtimes',
  pidfile: 'pidfile',
  'log-level': 'logLevel',
  group: 'group',
  'cgroup-parent': 'cgroupParent',
  'init-path': 'initPath',
  'detach-keys': 'detachKeys',
  bridge: 'bridge',
  bip: 'bip',
  'default-address-pools': 'defaultAddressPools',
  mtu: 'mtu',
  icc: 'icc',
  'published-ports-obey-host-firewall': 'publishedPortsObeyHostFirewall',
  'insecure-registries': 'insecureRegistries',
  'registry-mirrors': 'registryMirrors',
  'max-concurrent-downloads': 'maxConcurrentDownloads',
  'max-concurrent-uploads': 'maxConcurrentUploads',
  'registry-certs-dir': 'registryCertsDir',
};
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];

export async function readConfigFile(path: string, required: boolean): Promise<Partial<DaemonConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (!required && errnoCode(err) === 'ENOENT') return {};
    throw invalidParameter(`unable to read configuration file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalidParameter(`unable to configure the daemon: ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalidParameter(`unable to configure the daemon: ${path} must hold a JSON object`);
  }
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = FILE_KEYS[key];
    if (!field) throw invalidParameter(`the following directives don't match any configuration option: ${key}`);
    config[field] = value;
  }
  if ('runtimes' in config) config.runtimes = runtimeConfigs(config.runtimes);
  if ('detachKeys' in config && (typeof config.detachKeys !== 'string' || !detachKeyBytes(config.detachKeys))) {
    throw invalidParameter(`unable to configure the daemon: invalid detach-keys ${JSON.stringify(config.detachKeys)}`);
  }
  checkRegistrySettings(config);
  return config as Partial<DaemonConfig>;
}

/** The registry settings' types, with dockerd's messages for the counts. */
function checkRegistrySettings(config: Record<string, unknown>): void {
  const stringList = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  for (const [field, key] of [['insecureRegistries', 'insecure-registries'], ['registryMirrors', 'registry-mirrors']] as const) {
    if (field in config && !stringList(config[field])) throw invalidParameter(`unable to configure the daemon: ${key} must be a list of strings`);
  }
  for (const [field, key] of [['maxConcurrentDownloads', 'max-concurrent-downloads'], ['maxConcurrentUploads', 'max-concurrent-uploads']] as const) {
    if (field in config && (!Number.isInteger(config[field]) || (config[field] as number) < 1)) {
      throw invalidParameter(`invalid ${key.replace(/-/g, ' ').replace('max ', 'max ')} value ${JSON.stringify(config[field])}: must be a positive integer`);
    }
  }
  if ('registryCertsDir' in config && typeof config.registryCertsDir !== 'string') throw invalidParameter('unable to configure the daemon: registry-certs-dir must be a string');
}

/** daemon.json `runtimes`: `{"name": {"path": "...", "runtimeArgs": ["..."]}}`. */
function runtimeConfigs(value: unknown): Record<string, RuntimeConfig> {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) throw invalidParameter('unable to configure the daemon: runtimes must be an object');
  const runtimes: Record<string, RuntimeConfig> = {};
  for (const [name, entry] of Object.entries(value)) {
    if (!isObject(entry) || typeof entry.path !== 'string' || entry.path === '') {
      throw invalidParameter(`unable to configure the daemon: runtime ${name} needs a "path"`);
    }
    const args = entry.runtimeArgs ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
      throw invalidParameter(`unable to configure the daemon: runtimeArgs of runtime ${name} must be a list of strings`);
    }
    const unknown = Object.keys(entry).filter((k) => k !== 'path' && k !== 'runtimeArgs');
    if (unknown.length > 0) {
      throw invalidParameter(`unable to configure the daemon: runtime ${name}: unsupported option ${unknown.join(', ')}`);
    }
    runtimes[name] = { path: entry.path, runtimeArgs: args as string[] };
  }
  return runtimes;
}

/** Flags and file together, refusing a setting given in both (as dockerd does). */
export function mergeConfig(file: Partial<DaemonConfig>, flags: Partial<DaemonConfig>): DaemonConfig {
  const clashes = Object.keys(flags).filter((k) => k in file);
  if (clashes.length > 0) {
    const names = clashes.map((c) => Object.keys(FILE_KEYS).find((k) => FILE_KEYS[k] === c));
    throw invalidParameter(
      `the following directives are specified both as a flag and in the configuration file: ${names.join(', ')}`,
    );
  }
  const config: DaemonConfig = { ...DEFAULTS, ...file, ...flags };
  if (!LOG_LEVELS.includes(config.logLevel)) throw invalidParameter(`invalid log level: ${config.logLevel}`);
  if (!Array.isArray(config.hosts) || config.hosts.length === 0) throw invalidParameter('hosts must list at least one address');
  // cgroupfs only: a path from the hierarchy's root; no `..`, which would leave it.
  if (typeof config.cgroupParent !== 'string' || !/^(\/[\w.-]+)+$/.test(config.cgroupParent) || config.cgroupParent.split('/').includes('..')) {
    throw invalidParameter(`invalid cgroup-parent ${JSON.stringify(config.cgroupParent)}: give an absolute cgroup path such as /berth`);
  }
  checkNetworkSettings(config);
  if (config.initPath !== undefined && (typeof config.initPath !== 'string' || !config.initPath.startsWith('/'))) {
    throw invalidParameter(`invalid init-path ${JSON.stringify(config.initPath)}: give the absolute path of a static init binary`);
  }
  return config;
}

/** The default bridge settings, with dockerd's words for a bad one. */
function checkNetworkSettings(config: DaemonConfig): void {
  if (typeof config.bridge !== 'string' || !/^[\w.-]{1,15}$/.test(config.bridge)) throw invalidParameter(`invalid bridge name ${JSON.stringify(config.bridge)}: at most 15 letters, digits, '.', '_' or '-'`);
  if (config.bip !== undefined && (typeof config.bip !== 'string' || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(config.bip))) throw invalidParameter(`invalid bip ${JSON.stringify(config.bip)}: give an address and prefix such as 10.1.0.1/24`);
  if (!Number.isInteger(config.mtu) || config.mtu < 68 || config.mtu > 65535) throw invalidParameter(`invalid MTU number: ${config.mtu}`);
  if (typeof config.icc !== 'boolean') throw invalidParameter('icc must be true or false');
  if (typeof config.publishedPortsObeyHostFirewall !== 'boolean') throw invalidParameter('published-ports-obey-host-firewall must be true or false');
  for (const pool of config.defaultAddressPools ?? []) {
    if (typeof pool?.base !== 'string' || !Number.isInteger(pool.size) || pool.size < 1 || pool.size > 30) {
      throw invalidParameter(`invalid default-address-pools entry ${JSON.stringify(pool)}: give {"base": "10.10.0.0/16", "size": 24}`);
    }
  }
}

/** --default-address-pool base=10.10.0.0/16,size=24 */
export function parseAddressPool(text: string): AddressPool {
  const fields = Object.fromEntries(text.split(',').map((part) => part.split('=', 2) as [string, string]));
  const pool = { base: fields.base, size: Number(fields.size) };
  if (!pool.base || !Number.isInteger(pool.size)) throw invalidParameter(`invalid default address pool ${JSON.stringify(text)}: give base=10.10.0.0/16,size=24`);
  return pool;
}

/** "unix:///run/berth/berth.sock" or a bare path → the socket path. */
export function socketPath(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw invalidParameter(`unsupported host address ${host}: berthd listens on unix sockets only (unix:///path)`);
}
