/**
 * The host's cgroups: which version it runs (v1, hybrid or unified v2), the checks done once at
 * daemon start, the parent folder containers are placed under, and removal of a container's
 * leftover cgroups. Every function takes the cgroup root, so the v2 paths are tested on a
 * recorded v2 tree (test/fixtures/cgroup-v2) on these v1 machines.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rmdir, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { errnoCode } from '../common/errors.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';

// f_type values of statfs(2) (linux/magic.h).
const CGROUP2_SUPER_MAGIC = 0x63677270;
const TMPFS_MAGIC = 0x01021994;

export interface CgroupInfo {
  /** '2' when the root is a cgroup2 mount (unified); '1' otherwise, hybrid included. */
  version: '1' | '2';
  /** Containers are placed by path (cgroupsPath), not through systemd. */
  driver: 'cgroupfs';
  /** v1 hierarchies plus a cgroup2 mount at ROOT/unified. */
  hybrid: boolean;
}

const run = promisify(execFile);

/** The version from the file-system types of the root and of ROOT/unified (undefined: absent). */
export function classifyCgroupMount(rootType: number, unifiedType: number | undefined): CgroupInfo {
  if (rootType === CGROUP2_SUPER_MAGIC) return { version: '2', driver: 'cgroupfs', hybrid: false };
  return { version: '1', driver: 'cgroupfs', hybrid: rootType === TMPFS_MAGIC && unifiedType === CGROUP2_SUPER_MAGIC };
}

async function fsType(path: string): Promise<number | undefined> {
  try {
    return Number((await statfs(path)).type);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Which cgroups the host runs, from statfs of the root and of ROOT/unified. */
export async function detectCgroups(root = CGROUP_ROOT): Promise<CgroupInfo> {
  const rootType = await fsType(root);
  if (rootType === undefined) throw new Error(`no cgroup file system at ${root}`);
  return classifyCgroupMount(rootType, rootType === CGROUP2_SUPER_MAGIC ? undefined : await fsType(join(root, 'unified')));
}

/** The controllers listed in a cgroup v2 folder's cgroup.controllers (none when absent). */
export async function v2Controllers(dir: string): Promise<string[]> {
  try {
    return (await readFile(join(dir, 'cgroup.controllers'), 'utf8')).split(/\s+/).filter((c) => c !== '');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** Controllers attached to some mounted cgroup v1 hierarchy, read from /proc/self/mounts. */
async function mountedV1Controllers(): Promise<Set<string>> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  const controllers = new Set<string>();
  for (const line of mounts.split('\n')) {
    const [, , type, options] = line.split(' ');
    if (type === 'cgroup') for (const option of options.split(',')) controllers.add(option);
  }
  return controllers;
}

/**
 * crun refuses hybrid hosts whose cgroup2 mount (at ROOT/unified) holds controllers
 * ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"). A controller
 * lands there when no v1 hierarchy claims it; mounting a v1 hierarchy for it moves it back.
 * Nothing to do on v1 without the unified mount, nor on v2. Returns what was done, for the log.
 */
export async function ensureCgroupsUsable(root = CGROUP_ROOT): Promise<string[]> {
  const unified = join(root, 'unified');
  const stranded = await v2Controllers(unified);
  if (stranded.length === 0) return [];
  const v1 = await mountedV1Controllers();
  const notes: string[] = [];
  for (const controller of stranded.filter((c) => !v1.has(c))) {
    const target = join(root, controller);
    await mkdir(target, { recursive: true });
    await run('mount', ['-t', 'cgroup', '-o', controller, 'cgroup', target]);
    notes.push(
      `cgroup controller "${controller}" was only on the cgroup2 mount ${unified}, which makes crun refuse ` +
        `to run ("hybrid mode not supported"); mounted its cgroup v1 hierarchy at ${target}`,
    );
  }
  return notes;
}

/**
 * The three writes berthd makes to a cgroup file system: an interface so that the v2 paths are
 * tested on a recorded tree with the kernel's rules emulated (test/unit/runtime-cgroups.test.ts).
 */
export interface CgroupFs {
  /** mkdir(2) of a cgroup: the kernel fills it with interface files. */
  mkdir(path: string): Promise<void>;
  /** rmdir(2): fails with EBUSY while the cgroup has processes or child cgroups. */
  rmdir(path: string): Promise<void>;
  /** One write(2) to an interface file. */
  write(path: string, text: string): Promise<void>;
}

export const kernelCgroupFs: CgroupFs = {
  mkdir: async (path) => {
    await mkdir(path, { recursive: true });
  },
  rmdir: (path) => rmdir(path),
  write: (path, text) => writeFile(path, text),
};

/**
 * On v2, a controller reaches a container's cgroup only when every ancestor enables it in
 * cgroup.subtree_control. Enables, from the root down to `parent` (e.g. /berth, made if absent),
 * every controller the root offers, so that limits and stats work in the containers placed
 * below. (The runtimes enable what they need as they create a container's cgroup too; doing it
 * here makes it true whatever the runtime.) Returns the controllers containers will get.
 */
export async function enableV2Controllers(root: string, parent: string, fs: CgroupFs = kernelCgroupFs): Promise<string[]> {
  const wanted = await v2Controllers(root);
  let dir = root;
  for (const part of parent.split('/').filter((p) => p !== '')) {
    await enableIn(dir, wanted, fs);
    dir = join(dir, part);
    await fs.mkdir(dir);
  }
  await enableIn(dir, wanted, fs);
  return v2Controllers(dir);
}

/** Enables in `dir`'s children each of `wanted` that `dir` has, one write per controller. */
async function enableIn(dir: string, wanted: string[], fs: CgroupFs): Promise<void> {
  const offered = new Set(await v2Controllers(dir));
  const subtree = await readFile(join(dir, 'cgroup.subtree_control'), 'utf8').catch(() => '');
  const enabled = new Set(subtree.split(/\s+/).filter((c) => c !== ''));
  for (const controller of wanted.filter((c) => offered.has(c) && !enabled.has(c))) {
    // A write naming one controller the kernel refuses (e.g. cpuset busy) fails alone.
    await fs.write(join(dir, 'cgroup.subtree_control'), `+${controller}`).catch(() => {});
  }
}

/** The folders that hold cgroups: a v2 root is itself a cgroup (it has cgroup.procs), a v1 root a tmpfs of hierarchies. */
async function hierarchiesOf(root: string): Promise<string[]> {
  const names = await readdir(root);
  return names.includes('cgroup.procs') ? [root] : names.map((name) => join(root, name));
}

/** Removes `dir` and then each empty parent up to (not including) `stop`. */
async function rmdirUpTo(dir: string, stop: string, fs: CgroupFs): Promise<void> {
  for (let current = dir; current.startsWith(`${stop}/`); current = dirname(current)) {
    try {
      await fs.rmdir(current);
    } catch (err) {
      // ENOENT: already gone; EBUSY/ENOTEMPTY: other containers still live under the parent.
      if (errnoCode(err) === 'ENOENT') continue;
      return;
    }
  }
}

/**
 * Removes the container's cgroup folders (`cgroupsPath` as in the OCI spec, e.g. /berth/ID) and
 * the parents left empty: on v2 the one folder under the root, on v1 one in every hierarchy
 * (the hybrid cgroup2 mount at ROOT/unified included). The runtime's `delete` normally does
 * this; these are what a killed runtime or a failed create leave behind.
 */
export async function removeContainerCgroups(cgroupsPath: string, root = CGROUP_ROOT, fs: CgroupFs = kernelCgroupFs): Promise<void> {
  const hierarchies = await hierarchiesOf(root);
  await Promise.all(hierarchies.map((hierarchy) => rmdirUpTo(join(hierarchy, cgroupsPath), hierarchy, fs)));
}

/** The names of the cgroups under `parent` (e.g. /berth): on v1 in any hierarchy. */
export async function cgroupsUnder(parent: string, root = CGROUP_ROOT): Promise<string[]> {
  const hierarchies = await hierarchiesOf(root);
  const children = await Promise.all(
    hierarchies.map(async (hierarchy) => {
      try {
        const entries = await readdir(join(hierarchy, parent), { withFileTypes: true });
        return entries.filter((e) => e.isDirectory()).map((e) => e.name);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
        throw err;
      }
    }),
  );
  return [...new Set(children.flat())];
}

/** A controller's interface file of a container's cgroup: ROOT/CONTROLLER/PATH/FILE on v1, ROOT/PATH/FILE on v2. */
export function controllerFile(root: string, info: CgroupInfo, cgroupsPath: string, controller: string, file: string): string {
  return info.version === '2' ? join(root, cgroupsPath, file) : join(root, controller, cgroupsPath, file);
}

/**
 * Lifts a container's pids limit. The runtimes disagree on how to ask for it in an update (runc
 * takes -1, crun writes -1 to the file, which the kernel refuses, and both ignore 0), so the
 * kernel's "max" is written directly, on v1 and v2 alike.
 */
export async function liftPidsLimit(root: string, info: CgroupInfo, cgroupsPath: string, fs: CgroupFs = kernelCgroupFs): Promise<void> {
  await fs.write(controllerFile(root, info, cgroupsPath, 'pids', 'pids.max'), 'max');
}
