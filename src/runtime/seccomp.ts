/**
 * Docker's default seccomp profile, turned into the OCI `linux.seccomp` object of one container
 * as moby's profiles/seccomp (setupSeccomp) does: keep this machine's architectures from the
 * archMap, and keep each syscall rule only if its includes/excludes (capabilities, architectures,
 * minimum kernel) match this host and the container's capability set.
 */
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { invalidParameter } from '../common/errors.js';
import { effectiveCapabilities } from './capabilities.js';

export interface OciSyscallRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo?: number; op: string }>;
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: OciSyscallRule[];
}

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

/** A rule as Docker's profile format writes it. */
interface ProfileRule extends Partial<OciSyscallRule> {
  name?: string;
  comment?: string;
  includes?: Filter;
  excludes?: Filter;
}

export interface SeccompProfile extends Omit<OciSeccomp, 'syscalls'> {
  archMap?: Array<{ architecture: string; subArchitectures: string[] | null }>;
  syscalls?: ProfileRule[];
}

/** Where the rules are applied: libseccomp's name for the arch, the kernel, the capabilities. */
export interface SeccompTarget {
  arch: string;
  kernel: string;
  capabilities: readonly string[];
}

const DEFAULT_PROFILE_PATH = fileURLToPath(new URL('../../../resources/seccomp-default.json', import.meta.url));

// Node's process.arch → libseccomp's native name (the names the profile's "arches" use).
const NODE_TO_NATIVE: Readonly<Record<string, string>> = {
  ia32: 'x86',
  x64: 'amd64',
  arm: 'arm',
  arm64: 'arm64',
  loong64: 'loong64',
  ppc64: 'ppc64le',
  riscv64: 'riscv64',
  s390x: 's390x',
};

// libseccomp's native name → the OCI arch constant used by the archMap.
const NATIVE_TO_OCI: Readonly<Record<string, string>> = {
  x86: 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  loong64: 'SCMP_ARCH_LOONGARCH64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390x: 'SCMP_ARCH_S390X',
};

/** This machine, for the given capability set. */
export function hostTarget(capabilities: readonly string[]): SeccompTarget {
  return { arch: NODE_TO_NATIVE[process.arch] ?? process.arch, kernel: release(), capabilities };
}

/** "6.1.0-18-amd64" ≥ "5.8"? Compares major and minor only, as moby does. */
export function kernelAtLeast(kernel: string, minimum: string): boolean {
  const parse = (v: string) => {
    const match = /^(\d+)\.(\d+)/.exec(v);
    if (!match) throw invalidParameter(`seccomp profile: invalid kernel version "${v}"`);
    return [Number(match[1]), Number(match[2])];
  };
  const [major, minor] = parse(kernel);
  const [wantMajor, wantMinor] = parse(minimum);
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

function excluded(filter: Filter | undefined, target: SeccompTarget): boolean {
  if (!filter) return false;
  if (filter.arches?.includes(target.arch)) return true;
  if (filter.caps?.some((cap) => target.capabilities.includes(cap))) return true;
  return filter.minKernel !== undefined && kernelAtLeast(target.kernel, filter.minKernel);
}

function included(filter: Filter | undefined, target: SeccompTarget): boolean {
  if (!filter) return true;
  if (filter.arches?.length && !filter.arches.includes(target.arch)) return false;
  if (filter.caps?.length && !filter.caps.every((cap) => target.capabilities.includes(cap))) return false;
  return filter.minKernel === undefined || kernelAtLeast(target.kernel, filter.minKernel);
}

function ociRule(rule: ProfileRule): OciSyscallRule {
  if (rule.name && rule.names?.length) {
    throw invalidParameter("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
  }
  const { names, action, errnoRet, args } = rule;
  return {
    names: rule.name ? [rule.name] : (names ?? []),
    action: action ?? '',
    ...(errnoRet !== undefined ? { errnoRet } : {}),
    ...(args?.length ? { args } : {}),
  };
}

function architecturesFor(profile: SeccompProfile, arch: string): string[] | undefined {
  if (profile.architectures?.length) return profile.architectures;
  const entry = profile.archMap?.find((a) => a.architecture === NATIVE_TO_OCI[arch]);
  return entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : undefined;
}

/** The OCI filter for `target`, or undefined when the profile disables seccomp. */
export function toOciSeccomp(profile: SeccompProfile, target: SeccompTarget): OciSeccomp | undefined {
  const rules = profile.syscalls ?? [];
  if (!profile.defaultAction && rules.length === 0) return undefined;
  if (profile.architectures?.length && profile.archMap?.length) {
    throw invalidParameter(
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  const { defaultAction, defaultErrnoRet, flags, listenerPath, listenerMetadata } = profile;
  const architectures = architecturesFor(profile, target.arch);
  return {
    defaultAction,
    ...(defaultErrnoRet !== undefined ? { defaultErrnoRet } : {}),
    ...(architectures ? { architectures } : {}),
    ...(flags?.length ? { flags } : {}),
    ...(listenerPath ? { listenerPath } : {}),
    ...(listenerMetadata ? { listenerMetadata } : {}),
    syscalls: rules.filter((r) => !excluded(r.excludes, target) && included(r.includes, target)).map(ociRule),
  };
}

const profiles = new Map<string, Promise<SeccompProfile>>();

/** Parses a profile file once; later calls share the result. */
export function loadSeccompProfile(path = DEFAULT_PROFILE_PATH): Promise<SeccompProfile> {
  let profile = profiles.get(path);
  if (!profile) {
    profile = readFile(path, 'utf8').then((text) => JSON.parse(text) as SeccompProfile);
    profile.catch(() => profiles.delete(path)); // a failed read may succeed later
    profiles.set(path, profile);
  }
  return profile;
}

/**
 * The filter for a container with these capabilities on this machine: from Docker's default
 * profile, or from a profile given as JSON text (--security-opt seccomp=<file>).
 */
export async function seccompFor(capAdd: string[], capDrop: string[], profileJson?: string): Promise<OciSeccomp | undefined> {
  const profile = profileJson === undefined ? await loadSeccompProfile() : (JSON.parse(profileJson) as SeccompProfile);
  return toOciSeccomp(profile, hostTarget(effectiveCapabilities(capAdd, capDrop)));
}
