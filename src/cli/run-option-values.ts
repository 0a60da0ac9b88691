/**
 * Parsers for the values of `run`/`create`'s resource and file flags, with the docker CLI's rules
 * and messages (go-units' RAMInBytes and ParseUlimit, opts.NanoCPUs, opts.ParseEnvFile).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import type { DeviceMapping, Ulimit } from '../client/index.js';
import { CliExit } from './cli-exit.js';
import { ramInBytes as parseRamInBytes } from '../common/go-units.js';

/** go-units RAMInBytes ("64m", "1.5g", "512", binary units whatever the spelling), as a flag parser. */
export function ramInBytes(value: string): number {
  try {
    return parseRamInBytes(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** --memory-swap: a size, or -1 for unlimited swap. */
export function memorySwapBytes(value: string): number {
  return value === '-1' ? -1 : ramInBytes(value);
}

/** --cpus: a decimal number of CPUs as nano CPUs ("1.5" → 1500000000), at most 9 decimals. */
export function nanoCpus(value: string): number {
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new InvalidArgumentError(`failed to parse ${value} as a rational number`);
  const fraction = match[3] ?? '';
  if (fraction.replace(/0+$/, '').length > 9) throw new InvalidArgumentError('value is too precise');
  const nano = Number(match[2] || '0') * 1e9 + Number(fraction.padEnd(9, '0').slice(0, 9) || '0');
  return match[1] === '-' ? -nano : nano;
}

/** A signed 64-bit integer flag (--pids-limit, --cpu-quota), as Go's strconv.ParseInt. */
export function int64(value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw new InvalidArgumentError(`strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}

const ULIMIT_NAMES = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** go-units ParseUlimit: "nofile=1024" or "nofile=1024:2048"; repeated, the last of a name wins. */
export function ulimit(value: string, previous: Ulimit[] = []): Ulimit[] {
  const [name, limits, ...rest] = value.split('=');
  if (limits === undefined || rest.length > 0) throw new InvalidArgumentError(`invalid ulimit argument: ${value}`);
  if (!ULIMIT_NAMES.has(name!)) throw new InvalidArgumentError(`invalid ulimit type: ${name}`);
  const parts = limits.split(':');
  if (parts.length > 2) throw new InvalidArgumentError(`too many limit value arguments - ${limits}, can only have up to two, \`soft[:hard]\``);
  const [soft, hard] = parts.map((part) => {
    if (!/^-?\d+$/.test(part)) throw new InvalidArgumentError(`strconv.ParseInt: parsing "${part}": invalid syntax`);
    return Number(part);
  });
  const entry = { Name: name!, Soft: soft!, Hard: hard ?? soft! };
  if (entry.Soft > entry.Hard) throw new InvalidArgumentError(`ulimit soft limit must be less than or equal to hard limit: ${entry.Soft} > ${entry.Hard}`);
  return [...previous.filter((u) => u.Name !== entry.Name), entry];
}

/**
 * The lines of an --env-file or --label-file (opts.ParseEnvFile): blank lines and `#` comments
 * skipped, leading space trimmed, a UTF-8 BOM dropped; a name without `=` takes its value from
 * this environment when `lookup` says so (env files) and is dropped when unset.
 */
export function readKeyValueFile(path: string, lookup: boolean): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliExit(125, `berth: open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  const entries: string[] = [];
  for (const [index, raw] of text.replace(/^\uFEFF/, '').split('\n').entries()) {
    const line = raw.replace(/\r$/, '').trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const [name, ...value] = line.split('=');
    if (/\s/.test(name!)) throw new CliExit(125, `berth: variable '${name}' contains whitespaces`);
    if (name === '') throw new CliExit(125, `berth: no variable name on line '${line}' (${path}:${index + 1})`);
    if (value.length > 0) entries.push(line);
    else if (!lookup) entries.push(name!);
    else if (process.env[name!] !== undefined) entries.push(`${name}=${process.env[name!]}`);
  }
  return entries;
}

/** opts.ParseRestartPolicy: "no", "always", "unless-stopped", "on-failure[:N]" (the daemon checks the name). */
export function restartPolicy(value: string): { Name: string; MaximumRetryCount: number } {
  if (value === '') return { Name: '', MaximumRetryCount: 0 };
  const colon = value.indexOf(':');
  const name = colon === -1 ? value : value.slice(0, colon);
  const count = colon === -1 ? '' : value.slice(colon + 1);
  if (colon !== -1 && name === '') throw new InvalidArgumentError('invalid restart policy format: no policy provided before colon');
  if (count !== '' && !/^[+-]?\d+$/.test(count)) throw new InvalidArgumentError('invalid restart policy format: maximum retry count must be an integer');
  return { Name: name, MaximumRetryCount: count === '' ? 0 : Number(count) };
}

const DEVICE_MODE = /^[rwm]{1,3}$/;

/** opts.parseDevice: "/dev/x", "/dev/x:/dev/y", "/dev/x:rw" or "/dev/x:/dev/y:rw". */
export function deviceMapping(value: string, previous: DeviceMapping[] = []): DeviceMapping[] {
  const parts = value.split(':');
  if (parts.length > 3) throw new InvalidArgumentError(`invalid device specification: ${value}`);
  let [src, dst = '', permissions = 'rwm'] = parts as [string, string?, string?];
  if (parts.length === 2 && DEVICE_MODE.test(dst)) [dst, permissions] = ['', dst];
  if (!DEVICE_MODE.test(permissions)) throw new InvalidArgumentError(`invalid device mode: ${permissions}`);
  if (!src.startsWith('/')) throw new InvalidArgumentError(`bad format for path: ${src}`);
  return [...previous, { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: permissions }];
}

/** --device-cgroup-rule, checked as the docker CLI does ("c 1:3 rwm"). */
export function deviceCgroupRule(value: string, previous: string[] = []): string[] {
  if (!/^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.test(value)) throw new InvalidArgumentError(`invalid device cgroup format '${value}'`);
  return [...previous, value];
}

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** --sysctl name=value: only the namespaced ones Docker allows (opts.ValidateSysctl). */
export function sysctl(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  const name = at === -1 ? value : value.slice(0, at);
  if (at === -1 || !(IPC_SYSCTLS.has(name) || name.startsWith('net.') || name.startsWith('fs.mqueue.'))) {
    throw new InvalidArgumentError(`sysctl '${value}' is not allowed`);
  }
  return { ...previous, [name]: value.slice(at + 1) };
}

/**
 * --security-opt as the docker CLI sends it: `seccomp=<file>` becomes `seccomp=<the file's JSON,
 * compacted>` (the daemon never reads client files); names other than builtin/unconfined are files.
 */
export function securityOpt(value: string, previous: string[] = []): string[] {
  let at = value.indexOf('=');
  if (at === -1 && value !== 'no-new-privileges') at = value.indexOf(':');
  if ((at === -1 || at === value.length - 1) && value !== 'no-new-privileges') throw new InvalidArgumentError(`Invalid --security-opt: "${value}"`);
  const [key, setting] = [value.slice(0, at), value.slice(at + 1)];
  if (key !== 'seccomp' || setting === 'builtin' || setting === 'unconfined') return [...previous, value];
  let text: string;
  try {
    text = readFileSync(setting, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`opening seccomp profile (${setting}) failed: ${(err as Error).message}`);
  }
  try {
    return [...previous, `seccomp=${JSON.stringify(JSON.parse(text))}`];
  } catch (err) {
    throw new InvalidArgumentError(`compacting json for seccomp profile (${setting}) failed: ${(err as Error).message}`);
  }
}
