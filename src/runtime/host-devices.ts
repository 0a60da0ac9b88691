/**
 * Device nodes of the host as the OCI spec lists them (`linux.devices`): one path (--device), a
 * folder of them (--device /dev/snd), or all of /dev (--privileged), read with lstat as moby's
 * devices.DeviceFromPath and HostDevices do.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../common/errors.js';
import type { OciDevice } from './oci-spec.js';

/** Kernel device numbers from st_rdev (glibc's gnu_dev_major/minor). */
export function splitDeviceNumber(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor & 0xffffffffn) };
}

const S_IFMT = 0o170000n;
const TYPES: ReadonlyMap<bigint, OciDevice['type']> = new Map([
  [0o020000n, 'c'],
  [0o060000n, 'b'],
  [0o010000n, 'p'],
]);

/** The node at `path` as the container gets it at `containerPath`; undefined when it is no device. */
export async function deviceAt(path: string, containerPath = path): Promise<OciDevice | undefined> {
  const stat = await lstat(path, { bigint: true });
  const type = TYPES.get(stat.mode & S_IFMT);
  if (!type) return undefined;
  const { major, minor } = splitDeviceNumber(stat.rdev);
  return { path: containerPath, type, major, minor, fileMode: Number(stat.mode & 0o777n), uid: Number(stat.uid), gid: Number(stat.gid) };
}

// Where the runtime mounts its own file systems, and what never is a device to hand on.
const SKIPPED = new Set(['pts', 'shm', 'mqueue', 'fd', '.lxc', '.lxd-mounts', '.udev', 'hugepages']);

/** Every device under `dir` (not following links), with its path below `containerDir`. */
export async function devicesUnder(dir: string, containerDir = dir): Promise<OciDevice[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    // A path that is no folder (a regular file given to --device) has no devices under it.
    if (['ENOENT', 'EACCES', 'ENOTDIR'].includes(errnoCode(err) ?? '')) return [];
    throw err;
  }
  const found: OciDevice[] = [];
  for (const entry of entries) {
    if (SKIPPED.has(entry.name) && dir === '/dev') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await devicesUnder(path, join(containerDir, entry.name))));
    else if (entry.isCharacterDevice() || entry.isBlockDevice()) {
      const device = await deviceAt(path, join(containerDir, entry.name)).catch(() => undefined);
      // /dev/console is the container's own terminal, set up by the runtime.
      if (device && !(device.type === 'c' && device.major === 5 && device.minor === 1)) found.push(device);
    }
  }
  return found;
}
