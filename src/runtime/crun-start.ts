/**
 * `crun start` without a crun process. crun's init waits on the exec fifo in the container's
 * state folder (ROOT/ID/exec.fifo, which it holds open for reading from `create` on); `crun start`
 * opens the fifo for writing, unlinks it and writes one byte, and the init then runs the program
 * (libcrun's status.c, since its first releases). With no hooks and no notify socket in the spec
 * (berthd sets neither) that is all `crun start` does, so berthd does it itself: a start then
 * costs three file calls instead of a process (a fork of the daemon, crun's own start-up twice,
 * reading its copy of the spec), which took 6–9 ms of a run.
 */
import { constants } from 'node:fs';
import { access, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, errnoCode, notFound } from '../common/errors.js';

/** Starts a container `crun create` made under state root `root`. */
export async function startCrunContainer(root: string, id: string): Promise<void> {
  const fifo = join(root, id, 'exec.fifo');
  let handle;
  try {
    // Not blocking: with no reader (the init is gone) the open fails at once (ENXIO).
    handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENXIO') throw conflict(`crun start: container \`${id}\` is not running`, err);
    if (code !== 'ENOENT') throw err;
    // No fifo: started already, or a container crun does not know.
    const known = await access(join(root, id)).then(() => true, () => false);
    throw known ? conflict(`crun start: container \`${id}\` has already been started`, err) : notFound(`crun start: container \`${id}\` does not exist`, err);
  }
  try {
    await unlink(fifo);
    await handle.write(Buffer.of(0));
  } finally {
    await handle.close();
  }
}
