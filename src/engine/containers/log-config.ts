/**
 * Log drivers, as dockerd validates and reports them. berthd carries out three:
 *
 * - `json-file` (the default) and `local`: conmon keeps the container's output on disk (its
 *   k8s-file format, read back by log-reader.ts) and berthd rotates it at `max-size`, keeping
 *   `max-file` files (log-rotation.ts). What a user sees is what those drivers promise: `logs`
 *   reads everything kept, across rotations, container restarts and daemon restarts.
 * - `none`: nothing is kept; `logs` answers Docker's 501.
 *
 * Other drivers dockerd has built in are refused by name; options are checked as each driver's
 * ValidateLogOpt and constructor check them, at create rather than at first start.
 */
import { invalidParameter } from '../../common/errors.js';
import { goAtoi } from '../../common/go-strconv.js';
import { fromHumanSize, ramInBytes } from '../../common/go-units.js';
import type { LogConfigRequest } from './spec.js';

const DOCKER_LOG_DRIVERS = ['json-file', 'local', 'journald', 'syslog', 'none', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries'];
const CARRIED_OUT = ['json-file', 'local', 'none'];
const DEFAULT_LOG_DRIVER = 'json-file';

const JSON_FILE_OPTIONS = ['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'];
const LOCAL_OPTIONS = ['max-file', 'max-size', 'compress'];
/** The local driver's defaults (moby's daemon/logger/local). */
const LOCAL_MAX_SIZE = 20 * 1024 * 1024;
const LOCAL_MAX_FILE = 5;

/** What the engine does with a container's log. */
export interface LogSettings {
  /** False for `none`: no log is kept and `logs` is refused. */
  kept: boolean;
  /** Bytes past which the log is rotated; undefined: never. */
  maxSize?: number;
  /** Files kept, the live one included (1: a rotated log is dropped at once). */
  maxFile: number;
}

/** HostConfig.LogConfig as given (Docker reports the options as the user gave them), once valid. */
export function logConfig(given: LogConfigRequest | undefined): LogConfigRequest {
  const type = given?.Type || DEFAULT_LOG_DRIVER;
  if (!DOCKER_LOG_DRIVERS.includes(type)) throw invalidParameter(`logger: no log driver named '${type}' is registered`);
  if (!CARRIED_OUT.includes(type)) throw invalidParameter(`log driver "${type}" (--log-driver) is not supported yet by berthd`);
  const config = { ...(given?.Config ?? {}) };
  logSettings({ Type: type, Config: config });
  return { Type: type, Config: config };
}

/** The settings a valid LogConfig stands for; throws Docker's messages for an invalid one. */
export function logSettings({ Type: type, Config: config }: LogConfigRequest): LogSettings {
  if (type === 'none') return { kept: false, maxFile: 1 }; // moby validates no options for none
  const known = type === 'local' ? LOCAL_OPTIONS : JSON_FILE_OPTIONS;
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) {
      throw invalidParameter(type === 'local' ? `unknown log opt '${key}' for log driver local` : `unknown log opt '${key}' for json-file log driver`);
    }
  }
  const maxSize = config['max-size'] === undefined ? (type === 'local' ? LOCAL_MAX_SIZE : undefined) : size(type, config['max-size']);
  const maxFile = config['max-file'] === undefined ? (type === 'local' ? LOCAL_MAX_FILE : 1) : fileCount(config['max-file']);
  if (config.compress !== undefined) checkCompress(config.compress);
  for (const key of ['labels-regex', 'env-regex']) if (config[key]) regex(config[key]);
  return { kept: true, maxSize, maxFile };
}

function size(type: string, text: string): number {
  let bytes: number;
  try {
    bytes = type === 'local' ? ramInBytes(text) : fromHumanSize(text);
  } catch (err) {
    throw invalidParameter((err as Error).message);
  }
  if (bytes <= 0) throw invalidParameter('max-size must be a positive number');
  return bytes;
}

/** Go's strconv.Atoi, then moby's lower bound. */
function fileCount(text: string): number {
  const count = goAtoi(text);
  if (count < 1) throw invalidParameter('max-file cannot be less than 1');
  return count;
}

/**
 * Rotated files are kept as they are: compressing them is not carried out yet, so asking for it
 * is refused by name rather than ignored (`compress=false` is what berthd does).
 */
function checkCompress(text: string): void {
  const value = goBool(text);
  if (value === undefined) throw invalidParameter(`strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
  if (value) throw invalidParameter('log option "compress" (--log-opt compress=true) is not supported yet by berthd');
}

function goBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

function regex(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw invalidParameter(`error parsing regexp: ${(err as Error).message}`);
  }
}

/**
 * moby's Info.ExtraAttributes: the labels and environment variables the `labels`, `labels-regex`,
 * `env` and `env-regex` options name, which json-file stores with every line and `logs --details`
 * shows. They are fixed for the container's life, so berthd derives them from its record.
 */
export function logAttributes(config: Record<string, string>, labels: Record<string, string>, env: string[]): Array<[string, string]> {
  const extra = new Map<string, string>();
  for (const name of (config.labels ?? '').split(',').filter(Boolean)) if (name in labels) extra.set(name, labels[name]);
  if (config['labels-regex']) {
    const re = regex(config['labels-regex']);
    for (const [k, v] of Object.entries(labels)) if (re.test(k)) extra.set(k, v);
  }
  const vars = new Map(env.filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const));
  for (const name of (config.env ?? '').split(',').filter(Boolean)) if (vars.has(name)) extra.set(name, vars.get(name)!);
  if (config['env-regex']) {
    const re = regex(config['env-regex']);
    for (const [k, v] of vars) if (re.test(k)) extra.set(k, v);
  }
  return [...extra].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Go's url.QueryEscape, which moby applies to each key and value of `logs --details`. */
function queryEscape(text: string): string {
  return [...Buffer.from(text)]
    .map((byte) => {
      const c = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
      return c === ' ' ? '+' : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/**
 * What `logs --details` puts before each line: `k=v,k2=v2` and a space (only the space when
 * there are none; json-file keeps attributes, local none).
 */
export function detailsPrefix(logConfig: LogConfigRequest, labels: Record<string, string>, env: string[]): Buffer {
  const attrs = logConfig.Type === 'json-file' ? logAttributes(logConfig.Config, labels, env) : [];
  return Buffer.from(`${attrs.map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).join(',')} `);
}
