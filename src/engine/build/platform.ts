/**
 * `--platform` of FROM and of the build (`os/arch[/variant]`, as containerd's platforms.Parse
 * reads it). Berth runs images of its host's platform only (no emulation), so another platform
 * is refused by name rather than pulled and left unable to run.
 */
import { invalidParameter } from '../../common/errors.js';
import { goArch } from '../images/image-config.js';

/** The host's platform: `linux/amd64`. */
export const hostPlatform = (): string => `linux/${goArch()}`;

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386' };

/** Normalises a platform (`linux/x86_64` → `linux/amd64`) and checks the host can run it. */
export function checkPlatform(value: string): string {
  const parts = value.toLowerCase().split('/');
  if (parts.length < 1 || parts.length > 3 || parts.some((part) => !/^[a-z0-9_.-]+$/.test(part))) {
    throw invalidParameter(`failed to parse platform ${value}: "${value}": unknown operating system or architecture: invalid argument`);
  }
  const [os, arch = goArch()] = parts;
  const platform = `${os}/${ARCH_ALIASES[arch] ?? arch}`;
  if (platform !== hostPlatform()) throw invalidParameter(`platform ${value} is not supported: this host runs ${hostPlatform()} images only`);
  return platform;
}
