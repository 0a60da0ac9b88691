/**
 * A container's security and device settings (HostConfig.Privileged, SecurityOpt, Devices,
 * DeviceCgroupRules, Sysctls), checked at create with moby's messages and turned into the OCI
 * spec's at each start.
 */
import { lstatSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { invalidParameter } from '../../common/errors.js';
import { deviceAt, devicesUnder } from '../../runtime/host-devices.js';
import type { OciDevice, OciDeviceRule } from '../../runtime/oci-spec.js';

/** One HostConfig.Devices entry. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** Docker's default filter, none, or a profile's JSON text. */
  seccomp: { kind: 'default' } | { kind: 'unconfined' } | { kind: 'profile'; json: string };
  /** systempaths=unconfined: no masked or read-only /proc paths. */
  unmaskedPaths: boolean;
}

function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  return undefined;
}

/**
 * moby's parseSecurityOpt. SELinux and AppArmor are not on this host: label=disable and
 * apparmor=unconfined say what the container gets anyway; other labels and profiles are refused.
 */
export function parseSecurityOpts(opts: readonly string[]): SecurityOptions {
  const parsed: SecurityOptions = { noNewPrivileges: false, seccomp: { kind: 'default' }, unmaskedPaths: false };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      parsed.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue; // the old spelling of label=disable
    const at = opt.includes('=') ? opt.indexOf('=') : opt.indexOf(':');
    if (at === -1) throw invalidParameter(`invalid --security-opt 1: "${opt}"`);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'label':
        if (value !== 'disable') throw invalidParameter(`--security-opt ${opt}: SELinux labels are not supported by berthd (SELinux is not enabled); only label=disable is`);
        break;
      case 'apparmor':
        if (value !== 'unconfined') throw invalidParameter(`--security-opt ${opt}: AppArmor profiles are not supported by berthd (AppArmor is not enabled); only apparmor=unconfined is`);
        break;
      case 'seccomp':
        // "builtin" names Docker's default profile.
        parsed.seccomp = value === 'unconfined' ? { kind: 'unconfined' } : value === 'builtin' ? { kind: 'default' } : { kind: 'profile', json: value };
        break;
      case 'no-new-privileges': {
        const flag = parseBool(value);
        if (flag === undefined) throw invalidParameter(`invalid --security-opt 2: "${opt}"`);
        parsed.noNewPrivileges = flag;
        break;
      }
      case 'systempaths':
        if (value !== 'unconfined') throw invalidParameter(`invalid --security-opt 2: "${opt}"`);
        parsed.unmaskedPaths = true;
        break;
      default:
        throw invalidParameter(`invalid --security-opt 2: "${opt}"`);
    }
  }
  if (parsed.seccomp.kind === 'profile') {
    try {
      JSON.parse(parsed.seccomp.json);
    } catch (err) {
      throw invalidParameter(`Decoding seccomp profile failed: ${(err as Error).message}`);
    }
  }
  return parsed;
}

const DEVICE_RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** One --device-cgroup-rule ("c 1:3 rwm") as an OCI device rule. */
export function deviceCgroupRule(rule: string): OciDeviceRule {
  const match = DEVICE_RULE.exec(rule);
  if (!match) throw invalidParameter(`invalid device cgroup rule format: '${rule}'`);
  const [, type, major, minor, access] = match;
  return {
    allow: true,
    ...(type === 'a' ? {} : { type: type as 'c' | 'b' }),
    ...(major === '*' ? {} : { major: Number(major) }),
    ...(minor === '*' ? {} : { minor: Number(minor) }),
    access: access!,
  };
}

/** Checks a --device mapping; the host path must exist (moby fails the start; berthd refuses the create). */
export function checkDeviceMapping(device: DeviceMapping): void {
  if (!/^[rwm]{1,3}$/.test(device.CgroupPermissions)) throw invalidParameter(`invalid device mode: ${device.CgroupPermissions}`);
  if (device.PathInContainer !== '' && !device.PathInContainer.startsWith('/')) {
    throw invalidParameter(`${device.PathInContainer} is not an absolute path`);
  }
  try {
    lstatSync(device.PathOnHost);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message;
    throw invalidParameter(`error gathering device information while adding custom device "${device.PathOnHost}": ${reason}`);
  }
}

/** The device nodes and cgroup rules a --device mapping gives (a folder gives each device in it). */
export async function mappedDevices(device: DeviceMapping): Promise<{ devices: OciDevice[]; rules: OciDeviceRule[] }> {
  const target = device.PathInContainer || device.PathOnHost;
  // A link (/dev/serial/by-id/…) stands for the node it points to, as moby's EvalSymlinks.
  const host = await realpath(device.PathOnHost).catch(() => device.PathOnHost);
  const single = await deviceAt(host, target).catch(() => undefined);
  const devices = single ? [single] : await devicesUnder(host, target);
  if (devices.length === 0) {
    throw invalidParameter(`error gathering device information while adding custom device "${device.PathOnHost}": not a device node`);
  }
  const rules = devices
    .filter((d): d is OciDevice & { type: 'c' | 'b' } => d.type !== 'p')
    .map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: device.CgroupPermissions }));
  return { devices, rules };
}

// The namespaced sysctls Docker lets a container set (docker/cli opts.ValidateSysctl).
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** Only sysctls of the container's own IPC, network or UTS namespace; none of a namespace it shares with the host. */
export function checkSysctls(sysctls: Readonly<Record<string, string>>, shared: { ipc: boolean; network: boolean; uts: boolean }): void {
  for (const name of Object.keys(sysctls)) {
    const ipc = IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.');
    const network = name.startsWith('net.');
    const uts = name === 'kernel.domainname' || name === 'kernel.hostname';
    if (!ipc && !network && !uts) throw invalidParameter(`sysctl '${name}' is not allowed`);
    if (ipc && shared.ipc) throw invalidParameter(`sysctl '${name}' is not allowed in host IPC namespace`);
    if (network && shared.network) throw invalidParameter(`sysctl '${name}' is not allowed in host network namespace`);
    if (uts && shared.uts) throw invalidParameter(`sysctl '${name}' is not allowed in host UTS namespace`);
  }
}
