/**
 * Host cgroup checks done once at daemon start, and removal of a container's leftover cgroups.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { errnoCode } from '../common/errors.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
const UNIFIED = join(CGROUP_ROOT, 'unified');

const run = promisify(execFile);

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

async function unifiedControllers(): Promise<string[]> {
  try {
    return (await readFile(join(UNIFIED, 'cgroup.controllers'), 'utf8')).split(/\s+/).filter((c) => c !== '');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/**
 * crun refuses hybrid hosts whose cgroup2 mount (at /sys/fs/cgroup/unified) holds controllers
 * ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"). A controller
 * lands there when no v1 hierarchy claims it; mounting a v1 hierarchy for it moves it back.
 * Returns what was done, for the daemon's log.
 */
export async function ensureCgroupsUsable(): Promise<string[]> {
  const stranded = await unifiedControllers();
  if (stranded.length === 0) return [];
  const v1 = await mountedV1Controllers();
  const notes: string[] = [];
  for (const controller of stranded.filter((c) => !v1.has(c))) {
    const target = join(CGROUP_ROOT, controller);
    await mkdir(target, { recursive: true });
    await run('mount', ['-t', 'cgroup', '-o', controller, 'cgroup', target]);
    notes.push(
      `cgroup controller "${controller}" was only on the cgroup2 mount ${UNIFIED}, which makes crun refuse ` +
        `to run ("hybrid mode not supported"); mounted its cgroup v1 hierarchy at ${target}`,
    );
  }
  return notes;
}

/** Removes `dir` and then each empty parent up to (not including) `stop`. */
async function rmdirUpTo(dir: string, stop: string): Promise<void> {
  for (let current = dir; current.startsWith(`${stop}/`); current = dirname(current)) {
    try {
      await rmdir(current);
    } catch (err) {
      // ENOENT: already gone; EBUSY/ENOTEMPTY: other containers still live under the parent.
      if (errnoCode(err) === 'ENOENT') continue;
      return;
    }
  }
}

/**
 * Removes the container's cgroup folders (`cgroupsPath` as in the OCI spec, e.g. /berth/ID) from
 * every hierarchy, and the parents left empty. The runtime's `delete` normally does this; these
 * are what a killed runtime or a failed create leave behind.
 */
export async function removeContainerCgroups(cgroupsPath: string): Promise<void> {
  const hierarchies = await readdir(CGROUP_ROOT);
  await Promise.all(
    hierarchies.map((name) => {
      const root = join(CGROUP_ROOT, name);
      return rmdirUpTo(join(root, cgroupsPath), root);
    }),
  );
}
