/**
 * A bind source inside berthd's data root is in a place containers write to (a volume's folder,
 * a container's layer): a container could have planted a symbolic link there to a host path
 * (/v/link -> /etc) that a later bind of that path would expose. Such a source is refused when
 * any component below the data root is a link; elsewhere the host's own paths are trusted, as
 * Docker trusts them.
 */
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import { errnoCode, invalidParameter } from '../../common/errors.js';

export async function checkBindSource(source: string, dataRoot: string): Promise<void> {
  const root = posix.normalize(dataRoot);
  if (source !== root && !source.startsWith(`${root}/`)) return;
  let path = root;
  for (const part of source.slice(root.length).split('/').filter(Boolean)) {
    path = posix.join(path, part);
    const stats = await lstat(path).catch((err) => {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    });
    if (!stats) return;
    if (stats.isSymbolicLink()) {
      throw invalidParameter(
        `invalid mount config for type "bind": bind source path ${source} leads through a symbolic link in berthd's data root (${path}), which a container may have made`,
      );
    }
  }
}
