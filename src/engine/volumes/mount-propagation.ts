/**
 * Shared and slave bind propagation need the host side to propagate: moby refuses a bind whose
 * source sits on a private mount (it would silently not propagate) and makes the container's
 * root propagate too. The mount a path sits on is read from /proc/self/mountinfo.
 */
import { readFile } from 'node:fs/promises';
import { invalidParameter } from '../../common/errors.js';

interface MountInfo {
  mountPoint: string;
  /** The optional fields: shared:N, master:N, … */
  tags: string[];
}

const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

async function mountOf(path: string): Promise<MountInfo | undefined> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  let best: MountInfo | undefined;
  for (const line of table.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 7) continue;
    const mountPoint = unescape(fields[4]);
    const within = mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
    // The last matching line wins among equals: it is the mount on top.
    if (within && (!best || mountPoint.length >= best.mountPoint.length)) {
      best = { mountPoint, tags: fields.slice(6, fields.indexOf('-')) };
    }
  }
  return best;
}

/** moby's ensureShared / ensureSharedOrSlave for a bind of `source` with this propagation. */
export async function checkBindPropagation(source: string, propagation: string): Promise<void> {
  const shared = propagation === 'shared' || propagation === 'rshared';
  const slave = propagation === 'slave' || propagation === 'rslave';
  if (!shared && !slave) return;
  const info = await mountOf(source);
  if (!info) return;
  const isShared = info.tags.some((tag) => tag.startsWith('shared:'));
  const isSlave = info.tags.some((tag) => tag.startsWith('master:'));
  if (shared && !isShared) throw invalidParameter(`path ${source} is mounted on ${info.mountPoint} but it is not a shared mount`);
  if (slave && !isShared && !isSlave) throw invalidParameter(`path ${source} is mounted on ${info.mountPoint} but it is not a shared or slave mount`);
}

/** The container root's propagation moby sets for its binds: rshared for shared ones, else rslave for slave ones. */
export function rootfsPropagation(propagations: readonly string[]): string | undefined {
  if (propagations.some((p) => p === 'shared' || p === 'rshared')) return 'rshared';
  if (propagations.some((p) => p === 'slave' || p === 'rslave')) return 'rslave';
  return undefined;
}
