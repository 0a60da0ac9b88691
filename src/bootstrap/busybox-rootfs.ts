/**
 * The root filesystem of the embedded `busybox` base image, made from the host's static busybox
 * (Debian's busybox-static). There is no registry here, so this is how the first image comes to
 * exist: `berth image busybox` imports `packBusyboxRootfs()` with `BUSYBOX_IMAGE_CHANGES`.
 *
 * One list of entries feeds both the tar stream (for import) and the directory writer (for
 * runtime tests), so the two can never disagree about what the image contains.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** The host binary the image is made from. It must be statically linked: the image has no libc. */
export const HOST_BUSYBOX = '/bin/busybox';

/** Applied on import, giving the image the same Env and Cmd as Docker Hub's busybox. */
export const BUSYBOX_IMAGE_CHANGES: readonly string[] = [
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'CMD ["sh"]',
];

/** Fixed so that two packs of the same busybox give the same bytes, hence the same layer digest. */
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

type RootfsEntry =
  | { type: 'directory'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; content: string }
  | { type: 'host-file'; path: string; mode: number; source: string }
  | { type: 'symlink'; path: string; target: string };

const DIRECTORIES: ReadonlyArray<[string, number]> = [
  ['bin', 0o755],
  ['dev', 0o755],
  ['etc', 0o755],
  ['home', 0o755],
  ['proc', 0o755],
  ['root', 0o700],
  ['sys', 0o755],
  ['tmp', 0o1777],
  ['usr', 0o755],
  ['var', 0o755],
];

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';

/** Asks the binary itself which applets it was built with, sorted so the order is stable. */
function listApplets(busybox: string): string[] {
  const out = execFileSync(busybox, ['--list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((name) => name !== '' && name !== 'busybox')
    .sort();
}

function rootfsEntries(busybox: string): RootfsEntry[] {
  return [
    ...DIRECTORIES.map(([path, mode]): RootfsEntry => ({ type: 'directory', path, mode })),
    { type: 'host-file', path: 'bin/busybox', mode: 0o755, source: busybox },
    ...listApplets(busybox).map((applet): RootfsEntry => ({ type: 'symlink', path: `bin/${applet}`, target: 'busybox' })),
    { type: 'file', path: 'etc/passwd', mode: 0o644, content: PASSWD },
    { type: 'file', path: 'etc/group', mode: 0o644, content: GROUP },
  ];
}

/** Streams the root filesystem as an uncompressed tar, every entry owned by 0:0. */
export function packBusyboxRootfs(busybox = HOST_BUSYBOX): Readable {
  const pack = tar.pack();
  // tar-stream's pack is a streamx stream; piping it through a PassThrough hands callers a genuine
  // node Readable. pipeline() carries an error while packing (say, busybox missing) to the reader.
  const out = new PassThrough();
  pipeline(pack, out).catch(() => {
    // The error has already destroyed `out`, which is where the reader sees it.
  });
  void (async () => {
    for (const entry of rootfsEntries(busybox)) await addEntry(pack, entry);
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

async function addEntry(pack: tar.Pack, entry: RootfsEntry): Promise<void> {
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: FIXED_MTIME };
  switch (entry.type) {
    case 'directory':
      return addBuffered(pack, { ...owner, name: `${entry.path}/`, type: 'directory', mode: entry.mode });
    case 'symlink':
      return addBuffered(pack, { ...owner, name: entry.path, type: 'symlink', linkname: entry.target, mode: 0o777 });
    case 'file':
      return addBuffered(pack, { ...owner, name: entry.path, type: 'file', mode: entry.mode }, entry.content);
    case 'host-file': {
      const size = statSync(entry.source).size;
      const sink = pack.entry({ ...owner, name: entry.path, type: 'file', mode: entry.mode, size });
      await pipeline(createReadStream(entry.source), sink);
      return;
    }
  }
}

function addBuffered(pack: tar.Pack, header: tar.Headers, content?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (content === undefined) pack.entry(header, done);
    else pack.entry(header, content, done);
  });
}

/** Writes the same tree into `dir` (which may exist), for tests that run the runtime directly. */
export async function writeBusyboxRootfs(dir: string, busybox = HOST_BUSYBOX): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const entry of rootfsEntries(busybox)) {
    const target = join(dir, entry.path);
    switch (entry.type) {
      case 'directory':
        await mkdir(target, { recursive: true });
        // chmod after mkdir: the umask would strip the sticky bit and group/other bits.
        await chmod(target, entry.mode);
        break;
      case 'symlink':
        await symlink(entry.target, target);
        break;
      case 'file':
        await writeFile(target, entry.content);
        await chmod(target, entry.mode);
        break;
      case 'host-file':
        await copyFile(entry.source, target);
        await chmod(target, entry.mode);
        break;
    }
  }
}
