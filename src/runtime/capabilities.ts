/**
 * A container's capability set from Docker's defaults plus HostConfig.CapAdd/CapDrop, as moby's
 * daemon/pkg/oci/caps does it (TweakCapabilities). The spec and the seccomp filter both use it.
 */
import { readFileSync } from 'node:fs';
import { invalidParameter } from '../common/errors.js';

/** Docker's default set, in moby's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every capability Linux defines, indexed by its bit number. */
const KNOWN_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

const ALL = 'ALL';

/** The names of the capabilities set in a hex mask such as /proc/PID/status's CapEff. */
export function capabilitiesInMask(hexMask: string): string[] {
  const mask = BigInt(`0x${hexMask}`);
  return KNOWN_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

let daemonCapabilities: readonly string[] | undefined;

/**
 * The capabilities berthd itself holds, the most a container can get: "ALL" means these (as in
 * moby, which asks containerd's cap.Current()), since the runtime cannot grant more.
 */
export function availableCapabilities(): readonly string[] {
  if (!daemonCapabilities) {
    const status = readFileSync('/proc/self/status', 'utf8');
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
    daemonCapabilities = capabilitiesInMask(capEff);
  }
  return daemonCapabilities;
}

/** Upper-cases, adds the CAP_ prefix and rejects unknown or unavailable names; keeps "ALL". */
function normalize(names: readonly string[], available: readonly string[]): string[] {
  return names.map((name) => {
    const upper = name.toUpperCase();
    if (upper === ALL) return upper;
    const cap = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!KNOWN_CAPABILITIES.includes(cap)) throw invalidParameter(`unknown capability: "${cap}"`);
    if (!available.includes(cap)) {
      throw invalidParameter(`capability not supported by your kernel or not available in the current environment: "${cap}"`);
    }
    return cap;
  });
}

/** Docker's defaults adjusted by CapAdd/CapDrop, where either may say "ALL". */
export function effectiveCapabilities(
  capAdd: readonly string[],
  capDrop: readonly string[],
  available: readonly string[] = availableCapabilities(),
): string[] {
  if (capAdd.length === 0 && capDrop.length === 0) return [...DEFAULT_CAPABILITIES];
  const drop = normalize(capDrop, available);
  const add = normalize(capAdd, available);
  if (add.includes(ALL)) return available.filter((cap) => !drop.includes(cap));
  if (drop.includes(ALL)) return [...new Set(add)];
  return [...new Set([...DEFAULT_CAPABILITIES.filter((cap) => !drop.includes(cap)), ...add])];
}
