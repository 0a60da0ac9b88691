import { invalidParameter } from '../../common/errors.js';
import { goDurationMs } from '../../common/go-duration.js';
import type { HealthConfigWire } from '../../wire/containers.js';
import type { ContainerConfigFields } from './image-config.js';

/**
 * Applies `docker import --change` / `docker commit --change` instructions (a subset of the
 * Dockerfile: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME,
 * WORKDIR)
 * to an image config, as moby's dockerfile.BuildFromConfig does.
 */
export function applyConfigChanges(base: ContainerConfigFields, changes: string[]): ContainerConfigFields {
  const config: ContainerConfigFields = structuredClone(base);
  for (const raw of changes) {
    const line = raw.trim();
    if (line === '') continue;
    const match = line.match(/^(\S+)\s*([\s\S]*)$/);
    const keyword = match![1].toUpperCase();
    const args = match![2].trim();
    const apply = handlers[keyword];
    if (!apply) throw invalidParameter(`${keyword} is not a valid change command`);
    apply(config, args, keyword);
  }
  return config;
}

type Handler = (config: ContainerConfigFields, args: string, keyword: string) => void;

/** JSON array form (`["a","b"]`) or shell form, which runs under /bin/sh -c. */
function commandForm(args: string): string[] {
  const json = parseJsonArray(args);
  return json ?? ['/bin/sh', '-c', args];
}

function parseJsonArray(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(args);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  } catch {
    // Not JSON: Docker falls back to the shell form too.
  }
  return undefined;
}

function requireArgs(keyword: string, args: string): void {
  if (args === '') throw invalidParameter(`${keyword} requires at least one argument`);
}

/** `KEY=VALUE KEY2="two words"` pairs, or the legacy `KEY value with spaces` form. */
function keyValuePairs(keyword: string, args: string): Array<[string, string]> {
  requireArgs(keyword, args);
  const words = splitWords(args);
  if (!words[0].includes('=')) {
    const [key, ...rest] = args.split(/\s+/);
    if (rest.length === 0) throw invalidParameter(`${keyword} must have two arguments`);
    return [[key, args.slice(key.length).trim()]];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq <= 0) throw invalidParameter(`${keyword} names can not be blank: ${word}`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

/** Splits on whitespace, honouring double and single quotes and backslash escapes. */
function splitWords(input: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | null = null;
  let inWord = false;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch === '\\' && i + 1 < input.length && quote !== "'") {
      current += input[++i];
      inWord = true;
    } else if (quote) {
      if (ch === quote) quote = null;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw invalidParameter(`unmatched quote in: ${input}`);
  if (inWord) words.push(current);
  return words;
}

function setEnv(config: ContainerConfigFields, key: string, value: string): void {
  const env = (config.Env ?? []).filter((entry) => entry.split('=')[0] !== key);
  env.push(`${key}=${value}`);
  config.Env = env;
}

const HEALTHCHECK_DURATIONS: Record<string, 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval'> = {
  interval: 'Interval',
  timeout: 'Timeout',
  'start-period': 'StartPeriod',
  'start-interval': 'StartInterval',
};

/** `HEALTHCHECK [--interval=D …] CMD command` or `HEALTHCHECK NONE`, as the Dockerfile parser reads it. */
function healthcheck(args: string): HealthConfigWire {
  let rest = args;
  const health: HealthConfigWire = {};
  for (let flag = /^--([a-z-]+)=(\S*)\s*/.exec(rest); flag; flag = /^--([a-z-]+)=(\S*)\s*/.exec(rest)) {
    rest = rest.slice(flag[0].length);
    const [, name, value] = flag;
    if (name === 'retries') {
      if (!/^-?\d+$/.test(value!)) throw invalidParameter(`invalid retries value: ${value}`);
      if (Number(value) < 0) throw invalidParameter(`--retries cannot be negative (${value})`);
      health.Retries = Number(value);
      continue;
    }
    const key = HEALTHCHECK_DURATIONS[name!];
    if (!key) throw invalidParameter(`Unknown flag: ${name}`);
    const ms = goDurationMs(value!);
    if (ms === undefined) throw invalidParameter(`time: invalid duration "${value}"`);
    if (ms !== 0 && ms < 1) throw invalidParameter(`Interval "${name}" cannot be less than 1ms`);
    health[key] = Math.round(ms * 1e6);
  }
  const type = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  const kind = type?.[1]?.toUpperCase();
  if (kind === 'NONE') {
    if (type![2]) throw invalidParameter('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kind !== 'CMD') throw invalidParameter(`Unknown type "${kind ?? ''}" in HEALTHCHECK (try CMD)`);
  const command = type![2]!;
  requireArgs('HEALTHCHECK CMD', command);
  const json = parseJsonArray(command);
  return { Test: json ? ['CMD', ...json] : ['CMD-SHELL', command], ...health };
}

const handlers: Record<string, Handler> = {
  HEALTHCHECK: (config, args, keyword) => {
    requireArgs(keyword, args);
    config.Healthcheck = healthcheck(args);
  },
  CMD: (config, args) => {
    config.Cmd = commandForm(args);
  },
  ENTRYPOINT: (config, args) => {
    config.Entrypoint = args === '' ? null : commandForm(args);
  },
  ENV: (config, args, keyword) => {
    for (const [key, value] of keyValuePairs(keyword, args)) setEnv(config, key, value);
  },
  LABEL: (config, args, keyword) => {
    config.Labels = { ...(config.Labels ?? {}) };
    for (const [key, value] of keyValuePairs(keyword, args)) config.Labels[key] = value;
  },
  EXPOSE: (config, args, keyword) => {
    requireArgs(keyword, args);
    config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
    for (const port of splitWords(args)) {
      if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(port)) throw invalidParameter(`invalid containerPort: ${port}`);
      config.ExposedPorts[port.includes('/') ? port : `${port}/tcp`] = {};
    }
  },
  VOLUME: (config, args, keyword) => {
    requireArgs(keyword, args);
    config.Volumes = { ...(config.Volumes ?? {}) };
    for (const volume of parseJsonArray(args) ?? splitWords(args)) config.Volumes[volume] = {};
  },
  USER: (config, args, keyword) => {
    requireArgs(keyword, args);
    config.User = args;
  },
  WORKDIR: (config, args, keyword) => {
    requireArgs(keyword, args);
    const dir = splitWords(args)[0];
    config.WorkingDir = dir.startsWith('/') ? dir : `${config.WorkingDir || '/'}/${dir}`.replace(/\/+/g, '/');
  },
  STOPSIGNAL: (config, args, keyword) => {
    requireArgs(keyword, args);
    config.StopSignal = args;
  },
  ONBUILD: (config, args, keyword) => {
    requireArgs(keyword, args);
    config.OnBuild = [...(config.OnBuild ?? []), args];
  },
};
