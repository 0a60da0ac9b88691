import { readFile, statfs } from 'node:fs/promises';
import { MNT_DETACH, MS_BIND, MS_RDONLY, MS_REMOUNT, mount, umount2 } from '../native/index.js';

const FILESYSTEM_MAGIC: Record<number, string> = {
  0xef53: 'extfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
};

/** The name of the filesystem holding `path`, as `docker info` shows it ("extfs", "xfs", …). */
export async function backingFilesystem(path: string): Promise<string> {
  const { type } = await statfs(path);
  return FILESYSTEM_MAGIC[type] ?? `unknown (0x${type.toString(16)})`;
}

/** Mount points at or below `dir`, deepest first, from /proc/self/mountinfo. */
export async function mountPointsUnder(dir: string): Promise<string[]> {
  const lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  // Field 5 is the mount point, with space, tab, newline and backslash written as octal escapes.
  const points = lines
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  return points.filter((point) => point === dir || point.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/** Lazily unmounts whatever is mounted at or below `dir` (mounts left by a daemon that died). */
export async function unmountAllUnder(dir: string): Promise<void> {
  for (const point of await mountPointsUnder(dir)) umount2(point, MNT_DETACH);
}

/** Mounts `source` at `target` read-only (a bind mount, then remounted read-only as the kernel requires). */
export function bindReadOnly(source: string, target: string): void {
  mount(source, target, null, MS_BIND, null);
  try {
    mount(null, target, null, MS_BIND | MS_REMOUNT | MS_RDONLY, null);
  } catch (err) {
    umount2(target, MNT_DETACH);
    throw err;
  }
}
