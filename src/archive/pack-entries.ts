import { posix } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack, type Pack } from 'tar-stream';
import { lgetxattr, llistxattr } from '../native/index.js';
import { base64XattrsAsBinary, xattrPaxRecord } from './pax-xattrs.js';
import { TarRewriter } from './tar-rewriter.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './whiteouts.js';
import { TreeTarWriter, type Header } from './tar-headers.js';

/** An entry of a layer diff: a path (absolute in the layer) added, changed or deleted. */
export interface DiffEntry {
  path: string;
  kind: 'A' | 'C' | 'D';
  /** A directory that hides everything its parent layers had in it. */
  opaque: boolean;
}

// overlayfs's own bookkeeping, never part of a layer's content.
const PRIVATE_XATTR_PREFIX = 'trusted.overlay.';

/**
 * Writes the OCI layer tar of `entries`, read from the directory `top`, to `out`: A and C
 * entries with their content and metadata (owner, mode, times, xattrs, hard links within the
 * tar), D entries as `.wh.NAME` whiteouts, opaque directories followed by `.wh..wh..opq` (and the
 * deletions under them left implied). Symlinks are stored, never followed; files are opened
 * O_NOFOLLOW (see tar-headers.ts). Runs confined (copy-helper.ts): `top` is '' there, the chroot's root.
 */
export async function writeDiffTar(
  top: string,
  entries: Iterable<DiffEntry> | AsyncIterable<DiffEntry>,
  out: Writable,
  nameOf: (path: string) => string = (path) => path.slice(1),
): Promise<void> {
  const archive = pack();
  // Binary xattr values pass tar-stream in base64 and are written raw (see pax-xattrs.ts).
  const written = pipeline(archive, new TarRewriter({ sparseToPax: false, rewritePax: base64XattrsAsBinary }), out);
  try {
    await writeEntries(archive, top, entries, nameOf);
    archive.finalize();
  } catch (err) {
    archive.destroy(err as Error);
  }
  await written;
}

async function writeEntries(
  archive: Pack,
  top: string,
  entries: Iterable<DiffEntry> | AsyncIterable<DiffEntry>,
  nameOf: (path: string) => string,
): Promise<void> {
  const writer = new TreeTarWriter(archive, addXattrs);
  const opaqueDirs: string[] = [];
  for await (const entry of entries) {
    const name = nameOf(entry.path);
    if (entry.kind === 'D') {
      if (opaqueDirs.some((dir) => entry.path.startsWith(`${dir}/`))) continue;
      await writer.add({ name: posix.join(posix.dirname(name), `${WHITEOUT_PREFIX}${posix.basename(name)}`), type: 'file', size: 0, mode: 0o644 });
      continue;
    }
    await writer.addPath(top + entry.path, name);
    if (entry.opaque) {
      opaqueDirs.push(entry.path);
      await writer.add({ name: posix.join(name, OPAQUE_WHITEOUT), type: 'file', size: 0, mode: 0o644 });
    }
  }
}

function addXattrs(header: Header, path: string): void {
  const pax: Record<string, string> = {};
  for (const name of llistxattr(path)) {
    if (name.startsWith(PRIVATE_XATTR_PREFIX)) continue;
    const value = lgetxattr(path, name);
    if (value) {
      const [key, text] = xattrPaxRecord(name, value);
      pax[key] = text;
    }
  }
  if (Object.keys(pax).length > 0) header.pax = pax;
}
