/**
 * The OCI runtime spec (config.json) of a container, with Docker's defaults (moby's
 * daemon/pkg/oci/defaults.go and daemon/oci_linux.go) so that a container here sees what it
 * would see under dockerd. Pure: everything host-dependent comes in through SpecInput.
 */
import { availableCapabilities, effectiveCapabilities } from './capabilities.js';
import type { ResourceUpdate } from './container-runtime.js';
import type { OciRlimit } from './rlimits.js';
import type { OciSeccomp } from './seccomp.js';

export interface OciMount {
  destination: string;
  source: string;
  type?: string;
  options: string[];
}

export interface SpecInput {
  /** Absolute path of the container's root filesystem. */
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  hostname: string;
  tty: boolean;
  consoleSize?: { height: number; width: number };
  /** Added after (and replacing) the default mounts with the same destination. */
  mounts: OciMount[];
  capAdd: string[];
  capDrop: string[];
  readonlyRootfs: boolean;
  /** e.g. /berth/ID; relative to each cgroup hierarchy's root. */
  cgroupsPath: string;
  /** Bytes; 0 means Docker's default of 64 MiB. */
  shmSize: number;
  /**
   * Docker's --privileged: every capability berthd holds, every host device, no masked or
   * read-only paths, /sys and the cgroup mount writable (the caller passes no seccomp filter).
   */
  privileged: boolean;
  seccomp: OciSeccomp | undefined;
  /** Docker sets none by default. The runtime clamps them to the daemon's hard limits. */
  rlimits?: OciRlimit[];
  domainname?: string;
  /** cgroup limits (HostConfig's Resources); device rules are added from `devices`/`deviceRules`. */
  resources?: OciResources;
  /** -1000..1000; Docker's default 0. */
  oomScoreAdj?: number;
  noNewPrivileges?: boolean;
  /** Device nodes created in the container's /dev (--device, or every host device when privileged). */
  devices?: OciDevice[];
  /** cgroup device rules after Docker's defaults (--device, --device-cgroup-rule). */
  deviceRules?: OciDeviceRule[];
  /** Added to (and overriding) the network sysctls Docker sets. */
  sysctls?: Record<string, string>;
  /**
   * The namespaces as the caller decided them (shared with the host by leaving one out, joined by
   * giving a path); Docker's set of new ones when absent.
   */
  namespaces?: OciNamespace[];
  /** linux.rootfsPropagation (rshared/rslave when binds propagate); the runtime's default when absent. */
  rootfsPropagation?: string;
  /** /dev/shm as a bind of this path (--ipc host or container:), instead of a tmpfs; 'none' for no /dev/shm. */
  shm?: { bind: string } | 'none';
}

export interface OciNamespace {
  type: 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'user' | 'cgroup';
  path?: string;
}

/** The cgroup limits of OCI's linux.resources that Berth sets (devices aside). */
export interface OciResources extends ResourceUpdate {
  memory?: ResourceUpdate['memory'] & { swappiness?: number; disableOOMKiller?: boolean };
}

export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: 'c' | 'b';
  major?: number;
  minor?: number;
  access: string;
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    consoleSize?: { height: number; width: number };
    user: { uid: number; gid: number; additionalGids: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    rlimits?: OciRlimit[];
    noNewPrivileges: boolean;
    oomScoreAdj: number;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  domainname?: string;
  mounts: OciMount[];
  linux: {
    namespaces: OciNamespace[];
    maskedPaths: string[];
    readonlyPaths: string[];
    devices?: OciDevice[];
    resources: OciResources & { devices: OciDeviceRule[] };
    cgroupsPath: string;
    sysctl: Record<string, string>;
    seccomp?: OciSeccomp;
    rootfsPropagation?: string;
  };
  annotations?: Record<string, string>;
}

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

// A new network namespace each: the runtime brings its loopback up; networks attach later.
export const DEFAULT_NAMESPACES: readonly OciNamespace['type'][] = ['pid', 'network', 'ipc', 'uts', 'mount'];

export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/devices/virtual/powercap',
  '/sys/firmware',
];

export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * Deny every device, then allow the ones the runtime creates in /dev (null, zero, full, random,
 * urandom, tty, console, ptmx); /dev/net/tun (10:200) stays denied, as moby's tuntap rule. The runtime adds its own
 * defaults (/dev/pts/*, …) on top.
 */
const DEVICE_RULES: readonly OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  ...[
    [1, 5],
    [1, 3],
    [1, 9],
    [1, 8],
    [5, 0],
    [5, 1],
  ].map(([major, minor]): OciDeviceRule => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: false, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

// What dockerd sets for a container with its own network namespace: ping without CAP_NET_RAW
// and binding ports below 1024 without CAP_NET_BIND_SERVICE.
const PRIVATE_NETWORK_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ping_group_range': '0 2147483647',
  'net.ipv4.ip_unprivileged_port_start': '0',
};

// These stay writable under a read-only rootfs (moby's WithMounts does the same).
const WRITABLE_UNDER_READONLY_ROOT = new Set(['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev']);

function shmMount(input: SpecInput): OciMount[] {
  if (input.shm === 'none') return [];
  if (input.shm) return [{ destination: '/dev/shm', type: 'bind', source: input.shm.bind, options: ['rbind', 'rprivate'] }];
  const size = input.shmSize || DEFAULT_SHM_SIZE;
  return [{ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${size}`] }];
}

function defaultMounts(input: SpecInput): OciMount[] {
  // A privileged container may write /sys and its cgroups (moby leaves them rw too).
  const sysOptions = input.privileged ? ['nosuid', 'noexec', 'nodev'] : ['nosuid', 'noexec', 'nodev', 'ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysOptions },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: input.privileged ? ['rw', ...sysOptions] : ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    ...shmMount(input),
  ];
}

function containerMounts(input: SpecInput): OciMount[] {
  const overridden = new Set(input.mounts.map((m) => m.destination));
  const defaults = defaultMounts(input)
    .filter((m) => !overridden.has(m.destination))
    .map((m) =>
      input.readonlyRootfs && !WRITABLE_UNDER_READONLY_ROOT.has(m.destination) && !m.options.includes('ro')
        ? { ...m, options: [...m.options, 'ro'] }
        : m,
    );
  return [...defaults, ...input.mounts];
}

/** runc before 1.2 ignores `domainname`; the sysctl sets it in a private UTS namespace for every runtime (as moby does). */
function domainSysctl(input: SpecInput, namespaces: readonly OciNamespace[]): Record<string, string> {
  const privateUts = namespaces.some((ns) => ns.type === 'uts' && !ns.path);
  return input.domainname && privateUts ? { 'kernel.domainname': input.domainname } : {};
}

const ALLOW_ALL_DEVICES: OciDeviceRule = { allow: true, access: 'rwm' };

function deviceRules(input: SpecInput): OciDeviceRule[] {
  if (input.privileged) return [{ ...ALLOW_ALL_DEVICES }];
  return [...DEVICE_RULES, ...(input.deviceRules ?? [])].map((rule) => ({ ...rule }));
}

export function buildOciSpec(input: SpecInput): OciSpec {
  const capabilities = input.privileged ? [...availableCapabilities()] : effectiveCapabilities(input.capAdd, input.capDrop);
  const namespaces = input.namespaces ?? DEFAULT_NAMESPACES.map((type): OciNamespace => ({ type }));
  // Its own namespace, or one made for it (the network's sandbox) or another container's: not the host's.
  const privateNetwork = namespaces.some((ns) => ns.type === 'network');
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: input.tty,
      ...(input.tty && input.consoleSize ? { consoleSize: { ...input.consoleSize } } : {}),
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: [...input.user.additionalGids] },
      args: [...input.args],
      env: [...input.env],
      cwd: input.cwd,
      capabilities: { bounding: capabilities, effective: [...capabilities], permitted: [...capabilities] },
      ...(input.rlimits?.length ? { rlimits: input.rlimits.map((r) => ({ ...r })) } : {}),
      noNewPrivileges: input.noNewPrivileges ?? false,
      oomScoreAdj: input.oomScoreAdj ?? 0,
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    hostname: input.hostname,
    ...(input.domainname ? { domainname: input.domainname } : {}),
    mounts: containerMounts(input),
    linux: {
      namespaces: namespaces.map((ns) => ({ ...ns })),
      maskedPaths: input.privileged ? [] : [...MASKED_PATHS],
      readonlyPaths: input.privileged ? [] : [...READONLY_PATHS],
      ...(input.devices?.length ? { devices: input.devices.map((d) => ({ ...d })) } : {}),
      resources: { ...structuredClone(input.resources ?? {}), devices: deviceRules(input) },
      cgroupsPath: input.cgroupsPath,
      sysctl: { ...(privateNetwork ? PRIVATE_NETWORK_SYSCTLS : {}), ...domainSysctl(input, namespaces), ...input.sysctls },
      ...(input.seccomp ? { seccomp: input.seccomp } : {}),
      ...(input.rootfsPropagation ? { rootfsPropagation: input.rootfsPropagation } : {}),
    },
  };
}
