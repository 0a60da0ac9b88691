import {
  closeSync,
  constants,
  linkSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  chmodSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { extract, type Headers } from 'tar-stream';
import { lsetxattr, makedev, mknod } from '../native/index.js';
import { entryPath } from './entry-path.js';
import { binaryXattrsAsBase64, XATTR_BASE64_PAX_PREFIX, XATTR_PAX_PREFIX } from './pax-xattrs.js';
import { TarRewriter } from './tar-rewriter.js';
import { sparseEntry, writeSparse, writeWithHoles, type SparseEntry } from './sparse.js';

/** tar-stream fills `pax` with the entry's PAX records; its type definitions leave it out. */
type Header = Headers & { pax?: Record<string, string> };

export interface CopyOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (docker cp's rule). */
  noOverwriteDirNonDir?: boolean;
  /** Every entry gets this owner instead of the tar's (`docker cp -a` into a container with a User). */
  owner?: { uid: number; gid: number };
}

/**
 * `docker cp`'s extraction: writes the entries of a tar under '/'. It must run chrooted into the
 * destination directory (see copy-helper.ts): names are only normalised here, and every symlink,
 * including one the tar itself just made, resolves inside the chroot, so no entry can reach
 * outside it. Names like `.wh.x` are plain names here, and the destination directory itself (an
 * entry `./`) keeps its own owner, mode and times. (Image layers are unpacked by berth-untar,
 * src/native/tools/untar.c.)
 */
export async function unpack(tar: Readable, options: CopyOptions = {}): Promise<void> {
  // Directory times are set last: writing their children would change them again.
  const directoryTimes: Array<{ path: string; atime: Date; mtime: Date }> = [];
  const entries = extract();
  const blocks = new TarRewriter({ sparseToPax: true, rewritePax: binaryXattrsAsBase64 });
  tar.on('error', (err) => entries.destroy(err));
  blocks.on('error', (err) => entries.destroy(err));
  tar.pipe(blocks).pipe(entries);

  for await (const entry of entries) {
    const header: Header = entry.header;
    const sparse = sparseEntry(header.name, header.pax);
    const name = sparse?.name ?? header.name;
    const path = entryPath(name);
    if (header.type === 'pax-global-header') {
      entry.resume();
      continue;
    }
    if (path !== '/') {
      if (options.owner) Object.assign(header, options.owner);
      await writeEntry(path, header, entry, sparse, options.noOverwriteDirNonDir ?? false);
      if (header.type === 'directory') {
        const mtime = header.mtime ?? new Date(0);
        directoryTimes.push({ path, atime: paxTime(header, 'atime') ?? mtime, mtime });
      }
    }
    entry.resume();
  }
  for (const { path, atime, mtime } of directoryTimes.reverse()) lutimesSync(path, atime, mtime);
}

async function writeEntry(
  path: string,
  header: Header,
  content: AsyncIterable<Buffer>,
  sparse: SparseEntry | undefined,
  noOverwriteDirNonDir: boolean,
): Promise<void> {
  const isDirectory = header.type === 'directory';
  clearPlaceFor(path, isDirectory, noOverwriteDirNonDir);
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      await writeFile(path, content, sparse);
      break;
    case 'directory':
      mkdirSync(path, { recursive: true, mode: 0o755 });
      break;
    case 'symlink':
      symlinkSync(header.linkname ?? '', path);
      break;
    case 'link':
      // The target resolves inside the chroot like any other name.
      linkSync(entryPath(header.linkname ?? ''), path);
      return; // a hard link shares its target's inode: owner, mode and times are the target's
    case 'character-device':
      mknod(path, constants.S_IFCHR, makedev(header.devmajor ?? 0, header.devminor ?? 0));
      break;
    case 'block-device':
      mknod(path, constants.S_IFBLK, makedev(header.devmajor ?? 0, header.devminor ?? 0));
      break;
    case 'fifo':
      mknod(path, constants.S_IFIFO, 0);
      break;
    default:
      throw new Error(`entry ${header.name}: unsupported tar entry type ${header.type ?? '(not a POSIX or GNU file type)'}`);
  }
  lchownSync(path, header.uid ?? 0, header.gid ?? 0);
  // After chown, which clears set-user-ID bits; symlinks have no mode of their own.
  if (header.type !== 'symlink') chmodSync(path, header.mode ?? 0o644);
  for (const [key, value] of Object.entries(header.pax ?? {})) {
    if (key.startsWith(XATTR_PAX_PREFIX)) lsetxattr(path, key.slice(XATTR_PAX_PREFIX.length), Buffer.from(value));
    else if (key.startsWith(XATTR_BASE64_PAX_PREFIX)) lsetxattr(path, key.slice(XATTR_BASE64_PAX_PREFIX.length), Buffer.from(value, 'base64'));
  }
  if (header.type !== 'directory') {
    const mtime = header.mtime ?? new Date(0);
    lutimesSync(path, paxTime(header, 'atime') ?? mtime, mtime);
  }
}

/** Makes room for a new entry at `path`: an existing directory stays when a directory comes. */
function clearPlaceFor(path: string, isDirectory: boolean, noOverwriteDirNonDir: boolean): void {
  let existing;
  try {
    existing = lstatSync(path);
  } catch {
    mkdirSync(posix.dirname(path), { recursive: true, mode: 0o755 });
    return;
  }
  if (noOverwriteDirNonDir && existing.isDirectory() !== isDirectory) {
    throw new Error(
      existing.isDirectory()
        ? `cannot overwrite directory "${path}" with non-directory`
        : `cannot overwrite non-directory "${path}" with directory`,
    );
  }
  if (!(isDirectory && existing.isDirectory())) rmSync(path, { recursive: true, force: true });
}

async function writeFile(path: string, content: AsyncIterable<Buffer>, sparse?: SparseEntry): Promise<void> {
  // O_EXCL|O_NOFOLLOW: clearPlaceFor removed whatever was there; never write through a link.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    if (sparse) return await writeSparse(fd, sparse, content);
    await writeWithHoles(fd, content);
  } finally {
    closeSync(fd);
  }
}

function paxTime(header: Header, key: 'atime'): Date | undefined {
  const seconds = header.pax?.[key];
  return seconds === undefined ? undefined : new Date(Number(seconds) * 1000);
}
