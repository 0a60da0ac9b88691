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
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, whiteoutApplier, type WhiteoutMode } from './whiteouts.js';


/** tar-stream fills `pax` with the entry's PAX records; its type definitions leave it out. */
type Header = Headers & { pax?: Record<string, string> };

/**
 * 'copy' is `docker cp`'s extraction: names like `.wh.x` are plain names, and the destination
 * directory itself (an entry `./`) keeps its own owner, mode and times.
 */
export type UnpackMode = WhiteoutMode | 'copy';

export interface CopyOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (docker cp's rule). */
  noOverwriteDirNonDir?: boolean;
  /** Every entry gets this owner instead of the tar's (`docker cp -a` into a container with a User). */
  owner?: { uid: number; gid: number };
}

/**
 * Writes the entries of a layer tar under '/'. It must run chrooted into the layer's directory
 * (see extract-helper.ts): names are only normalised here, and every symlink, including one the
 * tar itself just made, resolves inside the chroot, so no entry can reach outside the layer.
 */
export async function unpack(tar: Readable, mode: UnpackMode, options: CopyOptions = {}): Promise<void> {
  const written = new Set<string>();
  const whiteouts = mode === 'copy' ? undefined : whiteoutApplier(mode, written);
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
    const base = posix.basename(path);
    if (header.type === 'pax-global-header') {
      entry.resume();
      continue;
    }
    if (whiteouts) refuseWhiteoutInPath(name, path);
    if (mode !== 'copy') refuseBreakout(name, header);
    if (whiteouts && base === OPAQUE_WHITEOUT) {
      whiteouts.opaque(posix.dirname(path));
    } else if (whiteouts && base.startsWith(WHITEOUT_PREFIX)) {
      const hidden = posix.join(posix.dirname(path), base.slice(WHITEOUT_PREFIX.length));
      whiteouts.whiteout(hidden, { uid: header.uid ?? 0, gid: header.gid ?? 0 });
    } else if (!(mode === 'copy' && path === '/')) {
      if (options.owner) Object.assign(header, options.owner);
      await writeEntry(path, header, entry, sparse, options.noOverwriteDirNonDir ?? false);
      markWritten(written, path);
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
  if (path !== '/') clearPlaceFor(path, isDirectory, noOverwriteDirNonDir);
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

/**
 * A whiteout name is a marker for its own directory only: as a parent component
 * (`a/.wh.b/c`, `keep/sub/.wh..wh..opq/x`) it would make the marker's directory replace or delete
 * real entries, and hiding `.` or `..` (`.wh..`, `.wh...`) would replace the marker's directory
 * or its parent, up to the layer root. Docker's own tars never hold such names, so they are
 * refused before anything is changed for the entry.
 */
function refuseWhiteoutInPath(name: string, path: string): void {
  const components = path.split('/').filter(Boolean);
  const base = components.pop();
  if (components.some((component) => component.startsWith(WHITEOUT_PREFIX))) {
    throw new Error(`entry ${name}: a whiteout name (${WHITEOUT_PREFIX}…) can only be the last component of a path`);
  }
  if (base === WHITEOUT_PREFIX) throw new Error(`entry ${name}: whiteout without a name`);
  const hidden = base?.startsWith(WHITEOUT_PREFIX) ? base.slice(WHITEOUT_PREFIX.length) : undefined;
  if (hidden === '.' || hidden === '..') throw new Error(`entry ${name}: a whiteout cannot hide '${hidden}'`);
}

/**
 * A layer entry whose name, hard link target or relative symlink target climbs out of the layer
 * with '..' is refused, as Docker's layer extraction refuses it (pkg/archive's breakout errors).
 * The chroot would keep such an entry inside anyway; refusing it tells the sender their tar is
 * hostile or broken instead of quietly writing it somewhere else. Absolute names and absolute
 * symlink targets are Docker's too: they resolve from the layer's root.
 */
function refuseBreakout(name: string, header: Header): void {
  const climbs = (path: string) => {
    const normalised = posix.normalize(path);
    return normalised === '..' || normalised.startsWith('../');
  };
  if (climbs(name.replace(/^\/+/, ''))) throw new Error(`entry ${name}: ${JSON.stringify(name)} is outside of the layer`);
  const target = header.linkname ?? '';
  if (header.type === 'link' && climbs(target.replace(/^\/+/, ''))) throw new Error(`entry ${name}: invalid hardlink ${JSON.stringify(name)} -> ${JSON.stringify(target)}`);
  if (header.type === 'symlink' && !target.startsWith('/') && climbs(posix.join(posix.dirname(name.replace(/^\/+/, '')), target))) {
    throw new Error(`entry ${name}: invalid symlink ${JSON.stringify(name)} -> ${JSON.stringify(target)}`);
  }
}

function markWritten(written: Set<string>, path: string): void {
  for (let p = path; !written.has(p) && p !== '/'; p = posix.dirname(p)) written.add(p);
}

function paxTime(header: Header, key: 'atime'): Date | undefined {
  const seconds = header.pax?.[key];
  return seconds === undefined ? undefined : new Date(Number(seconds) * 1000);
}
