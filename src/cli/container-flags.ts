/**
 * The flags `run` and `create` share, and their translation into a create request, following the
 * docker CLI's defaults (attach stdout/stderr unless detached, StdinOnce with an attached stdin).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { ContainerCreateRequest } from '../client/index.js';
import { CliExit } from './cli-exit.js';
import { collect, memoryBytes } from './option-values.js';

export interface ContainerFlags {
  attach?: string[];
  capAdd?: string[];
  capDrop?: string[];
  detach?: boolean;
  entrypoint?: string;
  env?: string[];
  envFile?: string[];
  hostname?: string;
  interactive?: boolean;
  label?: string[];
  logDriver?: string;
  logOpt?: string[];
  name?: string;
  network?: string;
  net?: string;
  readOnly?: boolean;
  rm?: boolean;
  runtime?: string;
  shmSize?: number;
  tty?: boolean;
  user?: string;
  workdir?: string;
}

export type AttachTarget = 'stdin' | 'stdout' | 'stderr';

/** Declares the shared flags; `-h` is the hostname here, as in docker, so help is `--help` only. */
export function addContainerFlags(command: Command): Command {
  return command
    .helpOption('--help', 'Print usage')
    .option('-a, --attach <stream>', 'Attach to STDIN, STDOUT or STDERR', collect)
    .option('--cap-add <capability>', 'Add Linux capabilities', collect)
    .option('--cap-drop <capability>', 'Drop Linux capabilities', collect)
    .option('--entrypoint <command>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', collect)
    .option('--env-file <file>', 'Read in a file of environment variables', collect)
    .option('-h, --hostname <name>', 'Container host name')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-l, --label <KEY=VALUE>', 'Set meta data on a container', collect)
    .option('--log-driver <driver>', 'Logging driver for the container')
    .option('--log-opt <KEY=VALUE>', 'Log driver options', collect)
    .option('--name <name>', 'Assign a name to the container')
    .option('--network <network>', 'Connect a container to a network')
    // docker's older spelling, still accepted and hidden from its help.
    .addOption(new Option('--net <network>').hideHelp())
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('--runtime <runtime>', 'Runtime to use for this container')
    .addOption(new Option('--shm-size <bytes>', 'Size of /dev/shm').argParser(memoryBytes))
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <user>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions();
}

/** Which streams a foreground container attaches; `-d` attaches none. */
export function attachTargets(flags: ContainerFlags): Set<AttachTarget> {
  if (flags.detach) {
    if (flags.attach?.length) throw new CliExit(125, 'Conflicting options: -a and -d');
    return new Set();
  }
  if (!flags.attach?.length) {
    return new Set<AttachTarget>(flags.interactive ? ['stdin', 'stdout', 'stderr'] : ['stdout', 'stderr']);
  }
  return new Set(
    flags.attach.map((stream) => {
      const target = stream.toLowerCase();
      if (target !== 'stdin' && target !== 'stdout' && target !== 'stderr') {
        throw new CliExit(125, `invalid argument "${stream}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
      }
      return target;
    }),
  );
}

export function buildCreateRequest(
  image: string,
  command: string[],
  flags: ContainerFlags,
  consoleSize: [number, number] = [0, 0],
): ContainerCreateRequest {
  const attach = attachTargets(flags);
  const env = [...(flags.envFile ?? []).flatMap(readEnvFile), ...(flags.env ?? [])].flatMap(resolveEnv);
  return {
    Hostname: flags.hostname ?? '',
    User: flags.user ?? '',
    AttachStdin: attach.has('stdin'),
    AttachStdout: attach.has('stdout'),
    AttachStderr: attach.has('stderr'),
    Tty: flags.tty ?? false,
    OpenStdin: flags.interactive ?? false,
    StdinOnce: attach.has('stdin') && !flags.detach,
    Env: env.length > 0 ? env : null,
    Cmd: command.length > 0 ? command : null,
    Image: image,
    WorkingDir: flags.workdir ?? '',
    // An empty --entrypoint clears the image's entrypoint, which the API spells [""].
    Entrypoint: flags.entrypoint === undefined ? null : [flags.entrypoint],
    Labels: Object.fromEntries((flags.label ?? []).map(splitKeyValue)),
    HostConfig: {
      AutoRemove: flags.rm ?? false,
      ConsoleSize: consoleSize,
      CapAdd: flags.capAdd ?? null,
      CapDrop: flags.capDrop ?? null,
      ReadonlyRootfs: flags.readOnly ?? false,
      ShmSize: flags.shmSize ?? 0,
      ...(flags.runtime === undefined ? {} : { Runtime: flags.runtime }),
      NetworkMode: flags.network ?? flags.net ?? 'default',
      LogConfig: logConfig(flags),
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    },
  };
}

/** `-e KEY` takes KEY's value from this environment, and is dropped when KEY is unset (as docker). */
function resolveEnv(entry: string): string[] {
  if (entry.includes('=')) return [entry];
  const value = process.env[entry];
  return value === undefined ? [] : [`${entry}=${value}`];
}

function readEnvFile(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trimStart())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function splitKeyValue(entry: string): [string, string] {
  const at = entry.indexOf('=');
  return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
}

/** The docker CLI's parseLoggingOpts: `--log-opt k=v` into a map; none takes no options. */
function logConfig(flags: ContainerFlags): { Type: string; Config: Record<string, string> } {
  const options = flags.logOpt ?? [];
  if (flags.logDriver === 'none' && options.length > 0) throw new CliExit(125, 'invalid logging opts for driver none');
  return { Type: flags.logDriver ?? '', Config: Object.fromEntries(options.map(splitKeyValue)) };
}
