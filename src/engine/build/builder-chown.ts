/**
 * `--chown` of COPY/ADD by name, as moby's parseChownFlag: the user part is a uid or a name of
 * the image's /etc/passwd, the group part (the user part again when absent) a gid or a name of
 * its /etc/group. The files are read from the step's parent image, inside its root.
 */
import { readFile } from 'node:fs/promises';
import { invalidParameter } from '../../common/errors.js';
import { resolveInRoot } from '../../runtime/scoped-path.js';

const NUMERIC = /^\d+$/;

/** Whether the value needs the image's files (a name rather than ids). */
export const chownNeedsNames = (chown: string): boolean => chown !== '' && chown.split(':').some((part) => !NUMERIC.test(part));

async function idsOf(root: string, file: string): Promise<Map<string, number>> {
  const text = await readFile(await resolveInRoot(root, file), 'utf8').catch(() => '');
  const ids = new Map<string, number>();
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    // passwd: name:x:uid:gid…, group: name:x:gid:members — the id is the third field of both.
    if (fields.length >= 3 && NUMERIC.test(fields[2]!)) ids.set(fields[0]!, Number(fields[2]));
  }
  return ids;
}

/** `uid:gid` for a `--chown` value, names looked up in the image root `root` (undefined: scratch). */
export async function numericChown(root: string | undefined, chown: string): Promise<string> {
  const [user = '', group = user] = chown.split(':');
  const lookup = async (name: string, file: string, what: 'user' | 'group'): Promise<number> => {
    if (NUMERIC.test(name)) return Number(name);
    const id = root === undefined ? undefined : (await idsOf(root, file)).get(name);
    if (id === undefined) {
      throw invalidParameter(`unable to convert uid/gid chown string to host mapping: can't find ${what === 'user' ? 'uid' : 'gid'} for ${what} ${name}: no such ${what}: ${name}`);
    }
    return id;
  };
  return `${await lookup(user, 'etc/passwd', 'user')}:${await lookup(group, 'etc/group', 'group')}`;
}
