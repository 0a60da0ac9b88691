/**
 * Docker's `local` volume driver: a folder DATA/volumes/<name>/_data, or, with the options
 * `type`, `device` and `o`, a file system mounted there while containers use it (a tmpfs, a bind
 * of a host folder, a filesystem image on a loop device), exactly the options moby's local driver
 * takes. The mount is made by mount(8), which handles what the syscall alone does not (`loop`,
 * `bind` with `type=none`, helpers of network file systems), and dropped by the last user.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errnoCode, invalidParameter, wrap } from '../../common/errors.js';
import { writeJsonAtomic, readJsonIfExists } from '../../common/atomic-file.js';
import { MNT_DETACH, umount2 } from '../../native/index.js';
import type { VolumeDriver } from './volume-driver.js';

const run = promisify(execFile);

const VALID_OPTIONS = new Set(['type', 'device', 'o', 'size']);
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** moby's local driver name rules and messages. */
export function checkLocalName(name: string): void {
  if (name.length === 1) throw invalidParameter('volume name is too short, names should be at least two alphanumeric characters');
  if (!NAME.test(name)) {
    throw invalidParameter(
      `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

interface MountOptions {
  type?: string;
  device?: string;
  o?: string;
}

/** moby's validateOpts: known keys only; a type needs a device; no quotas on this host. */
function checkOptions(options: Readonly<Record<string, string>>): MountOptions | undefined {
  const keys = Object.keys(options);
  if (keys.length === 0) return undefined;
  for (const key of keys) if (!VALID_OPTIONS.has(key)) throw invalidParameter(`invalid option: "${key}"`);
  if (options.size !== undefined) throw invalidParameter('quota size requested but no quota support');
  if (options.type && !options.device) throw invalidParameter('missing required option: "device"');
  if (options.device && !options.type) throw invalidParameter('missing required option: "type"');
  if (!options.type && options.o) throw invalidParameter('missing required option: "type"');
  return { type: options.type, device: options.device, o: options.o };
}

/** Whether a path is a mount point now (its line in the mount table). */
async function isMountPoint(path: string): Promise<boolean> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  const escaped = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return table.split('\n').some((line) => line.split(' ')[4] === escaped);
}

export class LocalVolumeDriver implements VolumeDriver {
  readonly name = 'local';
  /** Users of each mounted volume (only volumes with mount options are mounted). */
  private readonly users = new Map<string, Set<string>>();

  constructor(private readonly root: string) {}

  static async open(root: string): Promise<LocalVolumeDriver> {
    await mkdir(root, { recursive: true, mode: 0o701 });
    return new LocalVolumeDriver(root);
  }

  async scope(): Promise<'local'> {
    return 'local';
  }

  private dataPath(name: string): string {
    return join(this.root, name, '_data');
  }

  private optionsPath(name: string): string {
    return join(this.root, name, 'opts.json');
  }

  async create(name: string, options: Readonly<Record<string, string>>): Promise<void> {
    checkLocalName(name);
    const mountOptions = checkOptions(options);
    if (mountOptions?.type === 'none' || mountOptions?.o?.split(',').includes('bind')) {
      // A bind volume of a folder that is not there would fail every start: refused now, as moby.
      await stat(mountOptions.device ?? '').catch((err) => {
        if (errnoCode(err) === 'ENOENT') throw invalidParameter(`failed to mount local volume: mount ${mountOptions.device}: no such file or directory`);
      });
    }
    await mkdir(this.dataPath(name), { recursive: true, mode: 0o755 });
    if (mountOptions) await writeJsonAtomic(this.optionsPath(name), mountOptions);
  }

  async remove(name: string): Promise<void> {
    if ((this.users.get(name)?.size ?? 0) > 0) throw invalidParameter(`volume ${name} has active mounts`);
    const data = this.dataPath(name);
    // A mount left by a crash must go first: removing the folder would delete what it shows.
    if (await isMountPoint(data)) umount2(data, MNT_DETACH);
    await rm(join(this.root, name), { recursive: true, force: true });
  }

  async mount(name: string, useId: string): Promise<string> {
    const data = this.dataPath(name);
    const options = await readJsonIfExists<MountOptions>(this.optionsPath(name));
    const users = this.users.get(name) ?? new Set<string>();
    if (options && users.size === 0 && !(await isMountPoint(data))) {
      const args = ['-t', options.type ?? 'none', ...(options.o ? ['-o', options.o] : []), options.device ?? 'none', data];
      try {
        await run('mount', args);
      } catch (err) {
        const stderr = (err as { stderr?: string }).stderr?.trim();
        throw wrap(invalidParameter(stderr || String(err)), `error while mounting volume '${data}'`);
      }
    }
    users.add(useId);
    this.users.set(name, users);
    return data;
  }

  async unmount(name: string, useId: string): Promise<void> {
    const users = this.users.get(name);
    users?.delete(useId);
    if (users && users.size > 0) return;
    this.users.delete(name);
    const data = this.dataPath(name);
    if ((await readJsonIfExists(this.optionsPath(name))) && (await isMountPoint(data))) umount2(data, MNT_DETACH);
  }

  adopt(name: string, useId: string): void {
    const users = this.users.get(name) ?? new Set<string>();
    users.add(useId);
    this.users.set(name, users);
  }

  /**
   * At daemon start: a volume with mount options still mounted with no run using it (berthd was
   * killed between a run's end and its unmount) is unmounted.
   */
  async unmountIdle(names: readonly string[], inUse: (name: string) => boolean): Promise<void> {
    for (const name of names) {
      if (inUse(name) || !(await readJsonIfExists(this.optionsPath(name)))) continue;
      const data = this.dataPath(name);
      if (await isMountPoint(data)) umount2(data, MNT_DETACH);
    }
  }

  /**
   * At daemon start, against the volume records: a folder no record names is what a crash between
   * a create's two steps left (empty: removed); a recorded volume whose folder a crash inside a
   * removal took keeps its record and gets its folder back, for the record goes last.
   */
  async reconcile(recorded: ReadonlySet<string>): Promise<void> {
    const folders = (await readdir(this.root)).filter((name) => NAME.test(name));
    for (const name of folders) if (!recorded.has(name)) await this.remove(name);
    for (const name of recorded) await mkdir(this.dataPath(name), { recursive: true, mode: 0o755 });
  }

  async path(name: string): Promise<string> {
    return this.dataPath(name);
  }

  async list(): Promise<string[]> {
    return [];
  }
}
