/**
 * The API socket: owned by root and the socket group (dockerd's -G/--group), mode 0660, and never
 * reachable with a wider mode, not even between bind() and chmod().
 */
import { chmod, chown, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Server } from 'node:http';
import { invalidParameter } from '../common/errors.js';

/** The group used when none is configured, if it exists (as dockerd uses `docker`). */
export const DEFAULT_SOCKET_GROUP = 'berth';

async function groupId(name: string): Promise<number | undefined> {
  const groups = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of groups.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && /^\d+$/.test(gid ?? '')) return Number(gid);
  }
  return undefined;
}

/**
 * The gid that owns the socket: the configured group (a name or a number), else `berth` when it
 * exists, else root's. A configured group that does not exist is an error, as in dockerd.
 */
export async function socketGroupId(configured: string | undefined): Promise<number> {
  if (configured === undefined) return (await groupId(DEFAULT_SOCKET_GROUP)) ?? 0;
  if (/^\d+$/.test(configured)) return Number(configured);
  const gid = await groupId(configured);
  if (gid === undefined) throw invalidParameter(`can't create unix socket: group ${configured} not found`);
  return gid;
}

/** Restrictive while the socket is bound: it appears as 0600 and only then opens up to 0660. */
const BIND_UMASK = 0o177;

/**
 * The socket group must reach the socket: a root-owned directory that neither group nor others
 * may enter (the default socket sits in the 0700 exec root) is given to the group, enter-only.
 */
async function letGroupEnter(dir: string, gid: number): Promise<void> {
  if (gid === 0) return;
  const { uid, mode } = await stat(dir);
  if (uid !== 0 || (mode & 0o011) !== 0) return;
  await chown(dir, 0, gid);
  await chmod(dir, (mode & 0o7777) | 0o010);
}

export async function listenUnix(server: Server, path: string, gid: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await letGroupEnter(dirname(path), gid);
  // A socket file left by a daemon that died is in the way; a live daemon holds the data root lock.
  await rm(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // bind() happens synchronously inside listen(), so the umask covers exactly that call.
    const previous = process.umask(BIND_UMASK);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
  await chown(path, 0, gid);
  await chmod(path, 0o660);
}
