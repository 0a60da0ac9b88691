import { invalidParameter } from '../../common/errors.js';

/** An OCI platform as image configs carry it. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

// containerd's platforms.Normalize spellings of the same architecture.
const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386', armhf: 'arm', armel: 'arm' };

/**
 * `--platform os[/arch[/variant]]` as containerd's platforms.Parse reads it. Only Linux images
 * can run here: another OS is refused as Docker on Linux refuses it.
 */
export function parsePlatform(text: string, defaultArchitecture: string): Platform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length > 3 || parts.some((part) => !/^[a-z0-9_.-]+$/.test(part))) {
    throw invalidParameter(`"${text}": unknown operating system or architecture: invalid argument`);
  }
  const [os, arch, variant] = parts as [string, string?, string?];
  if (os !== 'linux') throw invalidParameter(`operating system is not supported: ${os}`);
  const architecture = arch ? (ARCH_ALIASES[arch] ?? arch) : defaultArchitecture;
  return variant ? { os, architecture, variant } : { os, architecture };
}
