/**
 * The confined half of docker cp and export (copy.ts), run as its own Node process:
 *   node copy-helper.js ROOT stat PATH                 > one JSON line (PathStat)
 *   node copy-helper.js ROOT archive PATH              > one JSON line (PathStat), then the tar
 *   node copy-helper.js ROOT extract PATH NOOVERWRITE USER  < tar
 *   node copy-helper.js ROOT export                    > the tar of the whole root
 * ROOT is a directory (a stopped container's layer, with the binds of BERTH_COPY_BINDS, see
 * copy.ts), or /proc/self/fd/3 for a root the daemon pinned (a running container's
 * /proc/PID/root, with its mounts). The helper chroots into ROOT before it looks at any name, so
 * the kernel resolves every link and `..` inside the container's root, whatever the container
 * swaps meanwhile (CVE-2018-15664). Every module is loaded before the chroot and nothing is
 * looked up through libc afterwards (no NSS: users are read from the container's files as
 * text), so no library of the container is ever loaded into this root process (CVE-2019-14271).
 * Failures: see helper-process.ts.
 */
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { chroot, mount, MS_BIND } from '../native/index.js';
import { resolveInRoot } from '../runtime/scoped-path.js';
import { resolveUser } from '../runtime/user.js';
import type { Bind } from './copy.js';
import { archiveSource, absolutePath, asEntries, lstatContent, outsideKernelView, resolveFully, statOf } from './container-paths.js';
import { decompress } from './decompress.js';
import { runHelper } from './helper-process.js';
import { writeDiffTar } from './pack-entries.js';
import { walk } from './tar-headers.js';
import { unpack } from './unpack.js';

const [root, mode, path = '', noOverwrite, user] = process.argv.slice(2);

/** Writes the JSON line that comes before any tar bytes. */
const writeLine = (value: unknown) => new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(value)}\n`, () => resolve()));

/** An error the daemon answers with a 400 (helper-process.ts carries `code`). */
const refused = (message: string) => Object.assign(new Error(message), { code: 'EINVALID' });

function enter(dir: string): void {
  chroot(dir);
  process.chdir('/');
}

/**
 * Binds a stopped container's mounts into its root (in the mount namespace unshare(1) made for
 * this process). Nothing runs in a stopped container, so its links cannot move while they are
 * resolved; a destination of another kind than its source is left as it is.
 */
async function bindMounts(binds: Bind[]): Promise<void> {
  for (const { source, destination } of binds) {
    const target = await resolveInRoot(root!, destination);
    const from = await lstat(source);
    let to = await lstat(target).catch(() => undefined);
    if (to === undefined) {
      // As the runtime does at start: the mount point is made (a container never started lacks it).
      await (from.isDirectory() ? mkdir(target) : writeFile(target, '', { flag: 'wx' })).catch(() => undefined);
      to = await lstat(target).catch(() => undefined);
    }
    if (to && to.isDirectory() === from.isDirectory() && !to.isSymbolicLink()) mount(source, target, null, MS_BIND, null);
  }
}

await runHelper(async () => {
  if (!root) throw new Error('usage: copy-helper ROOT stat|archive|extract|export [PATH …]');
  const binds = process.env.BERTH_COPY_BINDS;
  if (binds) await bindMounts(JSON.parse(binds) as Bind[]);
  enter(root);
  process.umask(0);
  switch (mode) {
    case 'stat':
      return writeLine(await statOf(path));
    case 'archive': {
      const source = await archiveSource(path);
      await writeLine(source.stat);
      return writeDiffTar('', source.entries, process.stdout, source.nameOf);
    }
    case 'extract': {
      const target = await resolveFully(absolutePath(path));
      if (!(await lstatContent(target)).isDirectory()) throw refused('extraction point is not a directory');
      // Resolved while the container's /etc is in reach; `-a` without a User keeps the tar's owners.
      const owner = user ? await resolveUser('/', user) : undefined;
      // A second chroot, into the destination: no entry of the tar can land outside it.
      enter(target);
      // From here a missing file is the tar's doing (a hard link to nothing), not a missing path.
      return unpack(decompress(process.stdin), {
        noOverwriteDirNonDir: noOverwrite === '1',
        owner: owner && { uid: owner.uid, gid: owner.gid },
      }).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? refused(err.message) : err;
      });
    }
    case 'export': {
      const everything = walk('/', await lstatContent('/'), outsideKernelView);
      await everything.next(); // as Docker's export, the root itself is no entry
      return writeDiffTar('', asEntries(everything), process.stdout);
    }
    default:
      throw new Error(`copy-helper: unknown mode ${mode}`);
  }
});
