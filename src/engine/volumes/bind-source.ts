/**
 * A bind source inside berthd's data root is in a place containers write to (a volume's folder,
 * a container's layer): a container could have planted a symbolic link there to a host path
 * (/v/link -> /etc) that a later bind of that path would expose. Such a source is refused when
 * any component below the data root is a link; elsewhere the host's own paths are trusted, as
 * Docker trusts them.
 *
 * A check by path alone leaves a window: a container could swap a checked folder for a link
 * between the check and the runtime's mount. So at start the source is opened (O_PATH), the
 * object the kernel found is checked by the path it resolved to, and what the runtime mounts is
 * that object: what was checked, whatever the path says by then.
 */
import { type FileHandle, lstat, mkdir, open, readdir, readlink, rmdir, unlink, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { errnoCode, invalidParameter } from '../../common/errors.js';
import { MNT_DETACH, MS_BIND, MS_REC, mount, umount2 } from '../../native/index.js';

/** open(2)'s O_PATH, which node's fs.constants leaves out: a handle on the object, with no access to its content. */
const O_PATH = 0o10000000;

const inDataRoot = (source: string, root: string) => source === root || source.startsWith(`${root}/`);

const throughLink = (source: string, where: string) =>
  invalidParameter(
    `invalid mount config for type "bind": bind source path ${source} leads through a symbolic link in berthd's data root (${where}), which a container may have made`,
  );

export async function checkBindSource(source: string, dataRoot: string): Promise<void> {
  const root = posix.normalize(dataRoot);
  if (!inDataRoot(source, root)) return;
  let path = root;
  for (const part of source.slice(root.length).split('/').filter(Boolean)) {
    path = posix.join(path, part);
    const stats = await lstat(path).catch((err) => {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    });
    if (!stats) return;
    if (stats.isSymbolicLink()) throw throughLink(source, path);
  }
}

/**
 * Checks a bind source and, inside the data root, stages it: the object the kernel opens for the
 * check is bound at `staging` (in berthd's exec root, which no container reaches) and that is the
 * path the runtime gets, so a link swapped in after the check changes nothing. (The open file
 * itself, /proc/<pid>/fd/N, cannot be handed over: the runtime mounts from the container's new
 * mount namespace, and a bind from a mount of another namespace is refused with EINVAL.)
 */
export async function stageBindSource(source: string, dataRoot: string, staging: string, recursive: boolean): Promise<string> {
  await checkBindSource(source, dataRoot);
  if (!inDataRoot(source, posix.normalize(dataRoot))) return source;
  const handle = await openAsChecked(source);
  try {
    await mkdir(posix.dirname(staging), { recursive: true });
    if ((await handle.stat()).isDirectory()) await mkdir(staging);
    else await writeFile(staging, '', { flag: 'wx' });
    mount(`/proc/self/fd/${handle.fd}`, staging, null, MS_BIND | (recursive ? MS_REC : 0), null);
  } finally {
    await handle.close();
  }
  return staging;
}

/** Unmounts and removes the sources staged in `dir` for a run that ended (also one that ended while berthd was down). */
export async function releaseStagedSources(dir: string): Promise<void> {
  const names = await readdir(dir).catch((err) => {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (!names) return;
  for (const name of names) {
    try {
      umount2(posix.join(dir, name), MNT_DETACH);
    } catch (err) {
      if (errnoCode(err) !== 'EINVAL') throw err; // EINVAL: not mounted (a stage cut short)
    }
    // Never a recursive removal: a stage still mounted would take the source's content with it.
    await rmdir(posix.join(dir, name)).catch((err) => {
      if (errnoCode(err) === 'ENOTDIR') return unlink(posix.join(dir, name));
      throw err;
    });
  }
  await rmdir(dir);
}

/**
 * Opens the source (O_PATH) and makes sure the kernel found it at that very path: a link on the
 * way, swapped in after the check, or a folder moved meanwhile shows in the path it resolved to.
 */
export async function openAsChecked(source: string): Promise<FileHandle> {
  const handle = await open(source, O_PATH);
  try {
    const resolved = await readlink(`/proc/self/fd/${handle.fd}`);
    if (resolved !== posix.normalize(source).replace(/(.)\/+$/, '$1')) throw throughLink(source, `it resolves to ${resolved}`);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}
