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

const STORAGE_OPT = 'storage driver options (a container layer size) are not carried out yet';
const LIMITS = 'resource limits are not carried out yet';
const NETWORK = 'IPv6 and removing links are not carried out yet';
const ISOLATION = 'namespace, device and security settings beyond the defaults are not carried out yet';
const REGISTRY = 'multi-platform images and content trust are not carried out yet';
const CHECKPOINT = 'checkpoints are not carried out yet';
const LATER = 'not carried out yet';
const CLUSTER = 'cluster volumes need swarm mode, which berth does not have';
const MULTI_PLATFORM = 'berth keeps one platform per image: choosing a variant of a multi-platform archive is not carried out yet';
const PLATFORM: Refused = ['--platform <value>', REGISTRY];

const CONTAINER_FLAGS: Refused[] = [
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
  ['--gpus <value>', LIMITS],
  ['--io-maxbandwidth <value>', LIMITS],
  ['--io-maxiops <value>', LIMITS],
  ['--ip6 <value>', NETWORK],
  ['--isolation <value>', ISOLATION],
  ['--storage-opt <value>', STORAGE_OPT],
  ['--use-api-socket', LATER],
];
const PUSH_FLAGS: Refused[] = [['--platform <value>', 'pushing one platform of a multi-platform image is not carried out: berth stores single-platform images']];
const IMAGES_FLAGS: Refused[] = [['--tree', 'the tree view is not carried out yet']];

const START_FLAGS: Refused[] = [
  ['--checkpoint <value>', CHECKPOINT],
  ['--checkpoint-dir <value>', CHECKPOINT],
];
const INSPECT_SIZE: Refused = ['-s, --size', 'sizes in inspect are not carried out yet'];
const RM_LINK: Refused = ['-l, --link', NETWORK];
const UPDATE_FLAGS: Refused[] = [
  ['--cpu-rt-period <value>', LIMITS],
  ['--cpu-rt-runtime <value>', LIMITS],
];

/** By command path ('run', 'image ls'). */
export const NOT_CARRIED_OUT: Readonly<Record<string, readonly Refused[]>> = {
  run: CONTAINER_FLAGS,
  'container run': CONTAINER_FLAGS,
  create: CONTAINER_FLAGS,
  'container create': CONTAINER_FLAGS,
  start: START_FLAGS,
  'container start': START_FLAGS,
  inspect: [INSPECT_SIZE],
  'container inspect': [INSPECT_SIZE],
  rm: [RM_LINK],
  'container rm': [RM_LINK],
  images: IMAGES_FLAGS,
  'image ls': IMAGES_FLAGS,
  rmi: [PLATFORM],
  'image rm': [PLATFORM],
  'image inspect': [PLATFORM],
  history: [PLATFORM],
  'image history': [PLATFORM],
  save: [['--platform <value>', MULTI_PLATFORM]],
  'image save': [['--platform <value>', MULTI_PLATFORM]],
  load: [['--platform <value>', MULTI_PLATFORM]],
  'image load': [['--platform <value>', MULTI_PLATFORM]],
  push: PUSH_FLAGS,
  'image push': PUSH_FLAGS,
  update: UPDATE_FLAGS,
  'container update': UPDATE_FLAGS,
  'network inspect': [['-v, --verbose', 'verbose network inspect shows swarm services, which berthd has none of']],
  'volume create': [
    ['--availability <value>', CLUSTER],
    ['--group <value>', CLUSTER],
    ['--limit-bytes <value>', CLUSTER],
    ['--required-bytes <value>', CLUSTER],
    ['--scope <value>', CLUSTER],
    ['--secret <value>', CLUSTER],
    ['--sharing <value>', CLUSTER],
    ['--topology-preferred <value>', CLUSTER],
    ['--topology-required <value>', CLUSTER],
    ['--type <value>', CLUSTER],
  ],
  'volume ls': [['--cluster', CLUSTER]],
  build: [
    ['--cache-from <value>', 'the classic builder takes its cache from this daemon\'s own builds only'],
    ['--compress', 'the context goes over a local socket: compressing it would only cost time'],
    ['--disable-content-trust', REGISTRY],
    ['--isolation <value>', ISOLATION],
    ['--security-opt <value>', ISOLATION],
    ['--squash', 'squashing is an experimental daemon feature berthd does not have'],
  ],
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
