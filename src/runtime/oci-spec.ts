/**
 * The OCI runtime spec (config.json) of a container, with Docker's defaults (moby's
 * daemon/pkg/oci/defaults.go and daemon/oci_linux.go) so that a container here sees what it
 * would see under dockerd. Pure: everything host-dependent comes in through SpecInput.
 */
import { effectiveCapabilities } from './capabilities.js';
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
  privileged: false;
  seccomp: OciSeccomp | undefined;
  /** Docker sets none by default. The runtime clamps them to the daemon's hard limits. */
  rlimits?: OciRlimit[];
}

interface OciDeviceRule {
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
  mounts: OciMount[];
  linux: {
    namespaces: Array<{ type: string }>;
    maskedPaths: string[];
    readonlyPaths: string[];
    resources: { devices: OciDeviceRule[] };
    cgroupsPath: string;
    sysctl: Record<string, string>;
    seccomp?: OciSeccomp;
  };
  annotations?: Record<string, string>;
}

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

// A new network namespace each: the runtime brings its loopback up; networks attach later.
const NAMESPACES = ['pid', 'network', 'ipc', 'uts', 'mount'];

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
 * urandom, tty, console, ptmx); /dev/net/tun (10:229) stays denied. The runtime adds its own
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
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

// What dockerd sets for a container with its own network namespace: ping without CAP_NET_RAW
// and binding ports below 1024 without CAP_NET_BIND_SERVICE.
const PRIVATE_NETWORK_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ping_group_range': '0 2147483647',
  'net.ipv4.ip_unprivileged_port_start': '0',
};

// These stay writable under a read-only rootfs (moby's WithMounts does the same).
const WRITABLE_UNDER_READONLY_ROOT = new Set(['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev']);

function defaultMounts(shmSize: number): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize || DEFAULT_SHM_SIZE}`],
    },
  ];
}

function containerMounts(input: SpecInput): OciMount[] {
  const overridden = new Set(input.mounts.map((m) => m.destination));
  const defaults = defaultMounts(input.shmSize)
    .filter((m) => !overridden.has(m.destination))
    .map((m) =>
      input.readonlyRootfs && !WRITABLE_UNDER_READONLY_ROOT.has(m.destination) && !m.options.includes('ro')
        ? { ...m, options: [...m.options, 'ro'] }
        : m,
    );
  return [...defaults, ...input.mounts];
}

export function buildOciSpec(input: SpecInput): OciSpec {
  const capabilities = effectiveCapabilities(input.capAdd, input.capDrop);
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
      noNewPrivileges: false,
      oomScoreAdj: 0,
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    hostname: input.hostname,
    mounts: containerMounts(input),
    linux: {
      namespaces: NAMESPACES.map((type) => ({ type })),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
      resources: { devices: DEVICE_RULES.map((rule) => ({ ...rule })) },
      cgroupsPath: input.cgroupsPath,
      sysctl: { ...PRIVATE_NETWORK_SYSCTLS },
      ...(input.seccomp ? { seccomp: input.seccomp } : {}),
    },
  };
}
