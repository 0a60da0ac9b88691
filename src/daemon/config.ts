import { readFile } from 'node:fs/promises';
import { invalidParameter } from '../common/errors.js';
import { errnoCode } from '../common/errors.js';
import type { LogLevel } from '../common/logger.js';

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  storageDriver: string;
  defaultRuntime: string;
  pidfile: string;
  logLevel: LogLevel;
  /** Group that may use the API socket besides root (-G/--group); unset: `berth` if it exists. */
  group?: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

export const DEFAULTS: DaemonConfig = {
  hosts: ['unix:///run/berth/berth.sock'],
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  storageDriver: 'overlay',
  defaultRuntime: 'crun',
  pidfile: '/run/berth/berthd.pid',
  logLevel: 'info',
};

/** daemon.json keys, named as Docker names them, and the config field each one sets. */
const FILE_KEYS: Record<string, keyof DaemonConfig> = {
  hosts: 'hosts',
  'data-root': 'dataRoot',
  'exec-root': 'execRoot',
  'storage-driver': 'storageDriver',
  'default-runtime': 'defaultRuntime',
  pidfile: 'pidfile',
  'log-level': 'logLevel',
  group: 'group',
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
  return config as Partial<DaemonConfig>;
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
  return config;
}

/** "unix:///run/berth/berth.sock" or a bare path → the socket path. */
export function socketPath(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw invalidParameter(`unsupported host address ${host}: berthd listens on unix sockets only (unix:///path)`);
}
