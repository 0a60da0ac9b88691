/**
 * Docker's `--user` (Config.User) resolved against the container's own /etc/passwd and
 * /etc/group, with the rules of moby/sys/user.GetExecUser: 'name', 'uid', 'uid:gid',
 * 'name:group', 'uid:groupname' or '' (root). A numeric uid or gid need not be listed.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { errnoCode, invalidParameter } from '../common/errors.js';
import { resolveInRoot } from './scoped-path.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** The primary gid first, then the supplementary groups, as moby puts them in the spec. */
  additionalGids: number[];
  /** From passwd; '/' when the user has no entry (what Docker puts in HOME then). */
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;

/** A decimal id, undefined for a name; out-of-range numbers are an error as in moby. */
function parseNumeric(value: string): number | undefined {
  if (!/^[+-]?\d+$/.test(value)) return undefined;
  const id = Number(value);
  if (id < 0 || id > MAX_ID) throw invalidParameter(`uids and gids must be in range 0-${MAX_ID}`);
  return id;
}

/** A number field of a passwd or group line; Go's parser leaves a bad one at 0. */
const idField = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : 0);

function records(text: string | undefined): string[][] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.split(':'));
}

const parsePasswd = (text: string | undefined): PasswdEntry[] =>
  records(text).map(([name = '', , uid, gid, , home = '']) => ({ name, uid: idField(uid), gid: idField(gid), home }));

const parseGroup = (text: string | undefined): GroupEntry[] =>
  records(text).map(([name = '', , gid, members = '']) => ({
    name,
    gid: idField(gid),
    members: members.split(',').filter((m) => m !== ''),
  }));

/**
 * Reads a file of the rootfs, undefined when it does not exist. Links are resolved inside the
 * rootfs; O_NONBLOCK and the regular-file check keep a planted FIFO or device from hanging or
 * feeding the daemon.
 */
async function readRootfsFile(rootfs: string, path: string): Promise<string | undefined> {
  const hostPath = await resolveInRoot(rootfs, path);
  let handle;
  try {
    handle = await open(hostPath, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    if (!(await handle.stat()).isFile()) throw invalidParameter(`${path} in the container is not a regular file`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

export async function resolveUser(rootfs: string, spec: string): Promise<ResolvedUser> {
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = parseNumeric(userArg);
  const gidArg = parseNumeric(groupArg);
  // Both files at once: the group file is wanted whenever the user has an entry (always for root),
  // and each read is several round trips through the thread pool (an exec waits on them).
  const [passwdText, groupText] = await Promise.all([readRootfsFile(rootfs, '/etc/passwd'), readRootfsFile(rootfs, '/etc/group')]);
  const passwd = parsePasswd(passwdText);

  const matches = (u: PasswdEntry) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg);
  const entry = passwd.find(matches);
  if (!entry && userArg !== '' && uidArg === undefined) {
    throw invalidParameter(`unable to find user ${userArg}: no matching entries in passwd file`);
  }
  const uid = entry?.uid ?? uidArg ?? 0;
  let gid = entry?.gid ?? 0;
  let supplementary: number[] = [];

  if (groupArg !== '' || entry) {
    const groups = parseGroup(groupText);
    if (groupArg !== '') {
      const group = groups.find((g) => (gidArg !== undefined ? g.gid === gidArg : g.name === groupArg));
      if (!group && gidArg === undefined) {
        throw invalidParameter(`unable to find group ${groupArg}: no matching entries in group file`);
      }
      gid = group?.gid ?? (gidArg as number);
    } else {
      // Supplementary groups come only with the implicit form (a user without ':group').
      supplementary = groups.filter((g) => g.members.includes(entry!.name)).map((g) => g.gid);
    }
  }
  return { uid, gid, additionalGids: [gid, ...supplementary], home: entry?.home || '/' };
}

/**
 * HostConfig.GroupAdd: each a gid or a group name of the container's /etc/group (moby's
 * getAdditionalGroups); added to the user's groups.
 */
export async function resolveGroups(rootfs: string, names: readonly string[]): Promise<number[]> {
  if (names.length === 0) return [];
  const groups = parseGroup(await readRootfsFile(rootfs, '/etc/group'));
  return names.map((name) => {
    const gid = parseNumeric(name);
    const group = groups.find((g) => (gid !== undefined ? g.gid === gid : g.name === name));
    if (!group && gid === undefined) throw invalidParameter(`Unable to find group ${name}: no matching entries in group file`);
    return group?.gid ?? (gid as number);
  });
}
