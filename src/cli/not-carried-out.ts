/**
 * The docker CLI's flags that berth knows but does not carry out yet, per command, each with the
 * reason. Commands declare them (hidden from help) and refuse them by name, so a docker command
 * line gets a clear answer instead of "unknown option"; test/unit/cli-docker-parity.test.ts checks
 * against the docker CLI's own --help that every docker flag is either carried out or listed here.
 */
import { Option, type Command } from 'commander';
import { CliExit } from './cli-exit.js';

/** [commander flags, reason]. */
type Refused = readonly [string, string];

const PORTS = 'published ports are not carried out yet: containers get a loopback-only network';
const VOLUMES = 'volumes, bind mounts and tmpfs mounts are not carried out yet';
const LIMITS = 'resource limits are not carried out yet';
const NETWORK = 'network settings beyond --network none are not carried out yet';
const ISOLATION = 'namespace, device and security settings beyond the defaults are not carried out yet';
const REGISTRY = 'berth has no registry client or multi-platform images yet';
const CHECKPOINT = 'checkpoints are not carried out yet';
const LATER = 'not carried out yet';
const PLATFORM: Refused = ['--platform <value>', REGISTRY];

const CONTAINER_FLAGS: Refused[] = [
  ['--add-host <value>', NETWORK],
  ['--annotation <value>', 'OCI annotations are not carried out yet'],
  ['--blkio-weight-device <value>', LIMITS],
  ['--cpu-count <value>', LIMITS],
  ['--cpu-percent <value>', LIMITS],
  ['--cpu-rt-period <value>', LIMITS],
  ['--cpu-rt-runtime <value>', LIMITS],
  ['--device-read-bps <value>', LIMITS],
  ['--device-read-iops <value>', LIMITS],
  ['--device-write-bps <value>', LIMITS],
  ['--device-write-iops <value>', LIMITS],
  ['--disable-content-trust', REGISTRY],
  ['--dns <value>', NETWORK],
  ['--dns-option <value>', NETWORK],
  ['--dns-search <value>', NETWORK],
  ['--expose <value>', PORTS],
  ['--gpus <value>', LIMITS],
  ['--io-maxbandwidth <value>', LIMITS],
  ['--io-maxiops <value>', LIMITS],
  ['--ip <value>', NETWORK],
  ['--ip6 <value>', NETWORK],
  ['--isolation <value>', ISOLATION],
  ['--link <value>', NETWORK],
  ['--link-local-ip <value>', NETWORK],
  ['--mac-address <value>', NETWORK],
  ['--mount <value>', VOLUMES],
  ['--network-alias <value>', NETWORK],
  ['-p, --publish <value>', PORTS],
  ['-P, --publish-all', PORTS],
  ['--storage-opt <value>', VOLUMES],
  ['--tmpfs <value>', VOLUMES],
  ['--use-api-socket', LATER],
  ['-v, --volume <value>', VOLUMES],
  ['--volume-driver <value>', VOLUMES],
  ['--volumes-from <value>', VOLUMES],
];
const PULL_FLAGS: Refused[] = [
  ['-a, --all-tags', REGISTRY],
  ['--disable-content-trust', REGISTRY],
  ['--platform <value>', REGISTRY],
  ['-q, --quiet', LATER],
];
const IMAGES_FLAGS: Refused[] = [['--tree', 'the tree view is not carried out yet']];

/** By command path ('run', 'image ls'). */
export const NOT_CARRIED_OUT: Readonly<Record<string, readonly Refused[]>> = {
  run: CONTAINER_FLAGS,
  create: CONTAINER_FLAGS,
  start: [
    ['--checkpoint <value>', CHECKPOINT],
    ['--checkpoint-dir <value>', CHECKPOINT],
  ],
  inspect: [['-s, --size', 'sizes in inspect are not carried out yet']],
  rm: [['-l, --link', NETWORK]],
  images: IMAGES_FLAGS,
  'image ls': IMAGES_FLAGS,
  rmi: [PLATFORM],
  'image rm': [PLATFORM],
  'image inspect': [PLATFORM],
  import: [PLATFORM],
  history: [PLATFORM],
  'image history': [PLATFORM],
  'image import': [PLATFORM],
  pull: PULL_FLAGS,
  'image pull': PULL_FLAGS,
  update: [
    ['--cpu-rt-period <value>', LIMITS],
    ['--cpu-rt-runtime <value>', LIMITS],
  ],
  build: [
    ['--add-host <value>', NETWORK],
    ['--cache-from <value>', 'the classic builder takes its cache from this daemon\'s own builds only'],
    ['--cgroup-parent <value>', LIMITS],
    ['--compress', 'the context goes over a local socket: compressing it would only cost time'],
    ['--cpu-period <value>', LIMITS],
    ['--cpu-quota <value>', LIMITS],
    ['-c, --cpu-shares <value>', LIMITS],
    ['--cpuset-cpus <value>', LIMITS],
    ['--cpuset-mems <value>', LIMITS],
    ['--disable-content-trust', REGISTRY],
    ['--isolation <value>', ISOLATION],
    ['-m, --memory <value>', LIMITS],
    ['--memory-swap <value>', LIMITS],
    PLATFORM,
    ['--pull', REGISTRY],
    ['--security-opt <value>', ISOLATION],
    ['--shm-size <value>', LIMITS],
    ['--squash', 'squashing is an experimental daemon feature berthd does not have'],
    ['--ulimit <value>', LIMITS],
  ],
  version: [['-f, --format <value>', 'a --format for version is not carried out yet']],
  info: [['-f, --format <value>', 'a --format for info is not carried out yet']],
};

/** Declares the command's not-yet-carried-out docker flags; using one ends the call with its reason. */
export function refuseNotCarriedOut(command: Command, path: string): void {
  const refused = (NOT_CARRIED_OUT[path] ?? []).map(([flags, reason]) => {
    const option = new Option(flags).hideHelp();
    command.addOption(option);
    return { option, reason };
  });
  if (refused.length === 0) return;
  command.hook('preAction', (_command, action) => {
    const given = refused.find(({ option }) => action.getOptionValueSource(option.attributeName()) === 'cli');
    if (given) {
      throw new CliExit(125, `berth: ${given.option.long} is not supported yet: ${given.reason}\n\nRun 'berth ${path} --help' for more information`);
    }
  });
}
