/**
 * A container's log on disk: the live file conmon writes (ctr.log) and, once rotated, older ones
 * (ctr.log.1 is the newest of them). Renames never lose or repeat a line, because a file keeps
 * its inode: conmon goes on writing the renamed file until it is told to reopen the path, and a
 * reader holding a file keeps reading it whatever its name has become.
 *
 * What has to be consistent is the set of files a reader opens and the order it reads them in.
 * Rotation and the moments readers pick their files take one lock, and a rotation holds it until
 * conmon has created the new live file; so a reader sees either the files before a rotation or
 * after it, never half of one, and finds the file that follows the one it finished by inode.
 */
import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../../common/errors.js';

export interface OpenLogFile {
  handle: FileHandle;
  ino: number;
  path: string;
}

/** How long a rotation waits for the monitor to create the new live file (it is gone if it does not). */
const REOPEN_WAIT_MS = 2000;
const REOPEN_POLL_MS = 5;

export class LogFiles {
  private lock: Promise<void> = Promise.resolve();

  constructor(
    /** The live file. */
    readonly path: string,
    /** Files kept, the live one included. */
    private readonly maxFile: number,
  ) {}

  /** Runs `job` holding the lock (rotation, or a reader choosing files). */
  private locked<T>(job: () => Promise<T>): Promise<T> {
    const result = this.lock.then(job);
    this.lock = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** The rotated files' paths, oldest first, then the live one (which may not exist). */
  private async chain(): Promise<string[]> {
    const name = basename(this.path);
    const dir = dirname(this.path);
    const numbers = (await readdir(dir).catch(() => [] as string[]))
      .map((entry) => (entry.startsWith(`${name}.`) ? entry.slice(name.length + 1) : ''))
      .filter((suffix) => /^[1-9]\d*$/.test(suffix))
      .map(Number)
      .sort((a, b) => b - a);
    return [...numbers.map((n) => join(dir, `${name}.${n}`)), this.path];
  }

  /** Every file of the log, oldest first, opened together (no rotation in between). */
  openAll(): Promise<OpenLogFile[]> {
    return this.locked(async () => {
      const files: OpenLogFile[] = [];
      for (const path of await this.chain()) {
        const file = await openLog(path);
        if (file) files.push(file);
      }
      return files;
    });
  }

  /**
   * The file that follows `current` once it is no longer the live file (a rotation renamed it),
   * opened; undefined while it is still live. When rotations went past it altogether (its file
   * was deleted), the oldest file kept follows: what was between is gone, as with Docker.
   */
  successor(current: OpenLogFile): Promise<OpenLogFile | undefined> {
    return this.locked(async () => {
      const chain = await this.chain();
      const inodes = await Promise.all(chain.map((path) => stat(path).then((s) => s.ino, () => -1)));
      const at = inodes.indexOf(current.ino);
      if (at === chain.length - 1) return undefined; // still the live file
      for (const path of chain.slice(at + 1)) {
        const file = await openLog(path);
        if (file) return file;
      }
      return undefined;
    });
  }

  /**
   * Has the monitor create the live file if it is missing: berthd was killed in a rotation after
   * renaming it and before the monitor reopened (the monitor writes the renamed file meanwhile,
   * which readers take as the live one until the new file exists).
   */
  restoreLive(reopen: () => Promise<void>): Promise<void> {
    return this.locked(async () => {
      if (await exists(this.path)) return;
      await reopen().then(() => this.awaitLive(), () => {});
    });
  }

  private async awaitLive(): Promise<void> {
    for (let waited = 0; waited < REOPEN_WAIT_MS; waited += REOPEN_POLL_MS) {
      if (await exists(this.path)) return;
      await sleep(REOPEN_POLL_MS);
    }
  }

  /**
   * Rotates: each rotated file moves one up (the oldest past max-file goes), the live file
   * becomes .1, and `reopen` has the monitor create a new live file, which this waits for.
   * With max-file 1 the rotated file is dropped once the monitor has let go of it.
   */
  rotate(reopen: () => Promise<void>): Promise<void> {
    return this.locked(async () => {
      const kept = Math.max(this.maxFile - 1, 1);
      for (const path of (await this.chain()).slice(0, -1)) {
        const n = Number(path.slice(this.path.length + 1));
        if (n >= kept) await rm(path, { force: true });
        else await rename(path, `${this.path}.${n + 1}`);
      }
      await rename(this.path, `${this.path}.1`);
      try {
        await reopen();
      } catch {
        return; // the container has gone: its next run creates the live file
      }
      await this.awaitLive();
      if (this.maxFile === 1) await rm(`${this.path}.1`, { force: true });
    });
  }
}

async function openLog(path: string): Promise<OpenLogFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const { ino } = await handle.stat();
  return { handle, ino, path };
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
