/**
 * The flags `run` and `create` share, and their translation into a create request, following the
 * docker CLI's defaults (attach stdout/stderr unless detached, StdinOnce with an attached stdin).
 */
import { Command, Option } from 'commander';
import type { ContainerCreateRequest } from '../client/index.js';
import { CliExit } from './cli-exit.js';
import { collect } from './option-values.js';
import { deviceCgroupRule, deviceMapping, int64, ramInBytes, readKeyValueFile, securityOpt, sysctl, ulimit } from './run-option-values.js';
import { addResourceFlags, resourceRequest, type ResourceFlags } from './resource-flags.js';
import { addNetworkFlags, networkRequest, type NetworkFlags } from './network-flags.js';
import type { DeviceMapping, Ulimit } from '../client/index.js';
import { addRestartHealthFlags, healthcheck, restartPolicy, type RestartHealthFlags } from './restart-health-flags.js';
import { addMountFlags, mountRequest, type MountFlags } from './mount-flags.js';

export interface ContainerFlags extends ResourceFlags, RestartHealthFlags, NetworkFlags, MountFlags {
  attach?: string[];
  capAdd?: string[];
  capDrop?: string[];
  detach?: boolean;
  cgroupParent?: string;
  cgroupns?: string;
  device?: DeviceMapping[];
  deviceCgroupRule?: string[];
  domainname?: string;
  groupAdd?: string[];
  init?: boolean;
  ipc?: string;
  pid?: string;
  platform?: string;
  pull?: string;
  privileged?: boolean;
  securityOpt?: string[];
  sysctl?: Record<string, string>;
  userns?: string;
  uts?: string;
  kernelMemory?: number;
  labelFile?: string[];
  memorySwappiness?: number;
  oomKillDisable?: boolean;
  oomScoreAdj?: number;
  stopSignal?: string;
  stopTimeout?: number;
  ulimit?: Ulimit[];
  entrypoint?: string;
  env?: string[];
  envFile?: string[];
  hostname?: string;
  interactive?: boolean;
  label?: string[];
  logDriver?: string;
  logOpt?: string[];
  name?: string;
  cidfile?: string;
  quiet?: boolean;
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
  return addMountFlags(addNetworkFlags(addRestartHealthFlags(addResourceFlags(command))))
    .helpOption('--help', 'Print usage')
    .option('-a, --attach <stream>', 'Attach to STDIN, STDOUT or STDERR', collect)
    .option('--cap-add <capability>', 'Add Linux capabilities', collect)
    .option('--cap-drop <capability>', 'Drop Linux capabilities', collect)
    .option('--cgroup-parent <string>', 'Optional parent cgroup for the container')
    .option('--cgroupns <string>', 'Cgroup namespace to use (host|private)')
    .addOption(new Option('--device <list>', 'Add a host device to the container').argParser(deviceMapping))
    .addOption(new Option('--device-cgroup-rule <list>', 'Add a rule to the cgroup allowed devices list').argParser(deviceCgroupRule))
    .option('--domainname <string>', 'Container NIS domain name')
    .option('--group-add <list>', 'Add additional groups to join', collect)
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('--ipc <string>', 'IPC mode to use')
    .option('--pid <string>', 'PID namespace to use')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--privileged', 'Give extended privileges to this container')
    .option('--pull <string>', 'Pull image before running ("always", "missing", "never")')
    .addOption(new Option('--security-opt <list>', 'Security Options').argParser(securityOpt))
    .addOption(new Option('--sysctl <map>', 'Sysctl options').argParser(sysctl))
    .option('--userns <string>', 'User namespace to use')
    .option('--uts <string>', 'UTS namespace to use')
    .addOption(new Option('--kernel-memory <bytes>', 'Kernel memory limit (ignored by the daemon, as API v1.42 and later)').argParser(ramInBytes))
    .option('--label-file <file>', 'Read in a line delimited file of labels', collect)
    .addOption(new Option('--memory-swappiness <int>', 'Tune container memory swappiness (0 to 100)').argParser(int64))
    .option('--oom-kill-disable', 'Disable OOM Killer')
    .addOption(new Option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)").argParser(int64))
    .option('--stop-signal <signal>', 'Signal to stop the container')
    .addOption(new Option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container').argParser(int64))
    .addOption(new Option('--ulimit <ulimit>', 'Ulimit options').argParser(ulimit))
    .option('--entrypoint <command>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', collect)
    .option('--env-file <file>', 'Read in a file of environment variables', collect)
    .option('-h, --hostname <name>', 'Container host name')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-l, --label <KEY=VALUE>', 'Set meta data on a container', collect)
    .option('--log-driver <driver>', 'Logging driver for the container')
    .option('--log-opt <KEY=VALUE>', 'Log driver options', collect)
    .option('--name <name>', 'Assign a name to the container')
    .option('--cidfile <file>', 'Write the container ID to the file')
    .option('-q, --quiet', 'Suppress the pull output')
    .option('--network <network>', 'Connect a container to a network')
    // docker's older spelling, still accepted and hidden from its help.
    .addOption(new Option('--net <network>').hideHelp())
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('--runtime <runtime>', 'Runtime to use for this container')
    .addOption(new Option('--shm-size <bytes>', 'Size of /dev/shm').argParser(ramInBytes))
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
  const env = [...(flags.envFile ?? []).flatMap((path) => readKeyValueFile(path, true)), ...(flags.env ?? []).flatMap(resolveEnv)];
  const labels = [...(flags.labelFile ?? []).flatMap((path) => readKeyValueFile(path, false)), ...(flags.label ?? [])];
  const swappiness = flags.memorySwappiness ?? -1;
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new CliExit(125, `berth: invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }
  const health = healthcheck(flags);
  const mode = flags.network ?? flags.net ?? 'default';
  const network = networkRequest(flags, mode);
  const mounts = mountRequest(flags);
  return {
    ...(mounts.Volumes && { Volumes: mounts.Volumes }),
    ...(health && { Healthcheck: health }),
    Hostname: flags.hostname ?? '',
    Domainname: flags.domainname ?? '',
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
    Labels: Object.fromEntries(labels.map(splitKeyValue)),
    ...(flags.stopSignal === undefined ? {} : { StopSignal: flags.stopSignal }),
    ...(flags.stopTimeout === undefined ? {} : { StopTimeout: flags.stopTimeout }),
    ...(network.ExposedPorts && { ExposedPorts: network.ExposedPorts }),
    ...(network.NetworkingConfig && { NetworkingConfig: network.NetworkingConfig }),
    HostConfig: {
      ...mounts.HostConfig,
      ...resourceRequest(flags),
      ...network.host,
      MemorySwappiness: swappiness,
      KernelMemory: flags.kernelMemory ?? 0,
      Ulimits: flags.ulimit ?? null,
      OomKillDisable: flags.oomKillDisable ?? false,
      OomScoreAdj: flags.oomScoreAdj ?? 0,
      Privileged: flags.privileged ?? false,
      SecurityOpt: flags.securityOpt ?? null,
      Devices: flags.device ?? [],
      DeviceCgroupRules: flags.deviceCgroupRule ?? null,
      Sysctls: flags.sysctl ?? {},
      GroupAdd: flags.groupAdd ?? null,
      ...(flags.init === undefined ? {} : { Init: flags.init }),
      PidMode: flags.pid ?? '',
      IpcMode: flags.ipc ?? '',
      UTSMode: flags.uts ?? '',
      UsernsMode: flags.userns ?? '',
      CgroupnsMode: flags.cgroupns ?? '',
      CgroupParent: flags.cgroupParent ?? '',
      AutoRemove: flags.rm ?? false,
      ConsoleSize: consoleSize,
      CapAdd: flags.capAdd ?? null,
      CapDrop: flags.capDrop ?? null,
      ReadonlyRootfs: flags.readOnly ?? false,
      ShmSize: flags.shmSize ?? 0,
      ...(flags.runtime === undefined ? {} : { Runtime: flags.runtime }),
      NetworkMode: mode,
      LogConfig: logConfig(flags),
      RestartPolicy: restartPolicy(flags),
    },
  };
}

/** `-e KEY` takes KEY's value from this environment, and is dropped when KEY is unset (as docker). */
export function resolveEnv(entry: string): string[] {
  if (entry.includes('=')) return [entry];
  const value = process.env[entry];
  return value === undefined ? [] : [`${entry}=${value}`];
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
