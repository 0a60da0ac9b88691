/**
 * Extracts a tar from the daemon into a local directory, as the docker CLI's `cp` does (moby's
 * Untar with NoLchown and NoOverwriteDirNonDir): files get the caller as owner, and the tar's
 * modes and times. Entries may not climb out of the directory by name, nor through a link an
 * earlier entry made: every parent is checked to be a real directory before it is written into.
 */
import { constants } from 'node:fs';
import { chmod, link, lstat, lutimes, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type Headers } from 'tar-stream';

export async function untarInto(content: Readable, dir: string): Promise<void> {
  const entries = extract();
  content.on('error', (err) => entries.destroy(err));
  content.pipe(entries);
  const directoryTimes: Array<{ path: string; mtime: Date }> = [];
  for await (const entry of entries) {
    const { header } = entry;
    const path = inside(dir, header.name);
    if (path === undefined || header.type === 'pax-global-header') {
      entry.resume();
      continue;
    }
    await checkParents(dir, path);
    await makeRoom(path, header);
    await write(path, header, entry, dir);
    if (header.type === 'directory') directoryTimes.push({ path, mtime: header.mtime ?? new Date() });
    entry.resume();
  }
  for (const { path, mtime } of directoryTimes.reverse()) await utimes(path, mtime, mtime);
}

/** The entry's local path; undefined for the directory itself ('.', as moby skips it). */
function inside(dir: string, name: string): string | undefined {
  const relative = posix.normalize(name).replace(/^\/+/, '').replace(/\/+$/, '');
  if (relative === '.' || relative === '') return undefined;
  if (relative === '..' || relative.startsWith('../')) throw new Error(`invalid tar entry ${JSON.stringify(name)}: it is outside of ${dir}`);
  return posix.join(dir, relative);
}

/** Every parent between `dir` and `path` must be a directory, never a link. */
async function checkParents(dir: string, path: string): Promise<void> {
  const parts = posix.relative(dir, posix.dirname(path)).split('/').filter(Boolean);
  let current = dir;
  for (const part of parts) {
    current = posix.join(current, part);
    const stats = await lstat(current).catch(() => undefined);
    if (stats === undefined) return mkdir(path.slice(0, path.lastIndexOf('/')), { recursive: true, mode: 0o755 }).then(() => {});
    if (!stats.isDirectory()) throw new Error(`cannot extract ${path}: ${current} is not a directory`);
  }
}

/** Clears `path` for the entry, with moby's NoOverwriteDirNonDir rule; a directory stays for a directory. */
async function makeRoom(path: string, header: Headers): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing === undefined) return;
  const isDir = header.type === 'directory';
  if (existing.isDirectory() && !isDir) throw new Error(`cannot overwrite directory "${path}" with non-directory`);
  if (!existing.isDirectory() && isDir) throw new Error(`cannot overwrite non-directory "${path}" with directory`);
  if (!isDir) await rm(path, { force: true });
}

async function write(path: string, header: Headers, content: Readable, dir: string): Promise<void> {
  const mode = (header.mode ?? 0o644) & 0o7777;
  const mtime = header.mtime ?? new Date();
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      // O_EXCL|O_NOFOLLOW: makeRoom removed what was there; never write through a link.
      await pipeline(content, (await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)).createWriteStream());
      break;
    case 'directory':
      await mkdir(path, { mode }).catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : Promise.reject(err)));
      break;
    case 'symlink':
      await symlink(header.linkname ?? '', path);
      return lutimes(path, mtime, mtime);
    case 'link': {
      const target = inside(dir, header.linkname ?? '');
      if (target === undefined) throw new Error(`invalid hard link ${header.name} -> ${header.linkname}`);
      return link(target, path);
    }
    default:
      throw new Error(`cannot copy ${header.name}: a ${header.type} cannot be created by the berth client`);
  }
  await chmod(path, mode);
  if (header.type !== 'directory') await utimes(path, mtime, mtime);
}
