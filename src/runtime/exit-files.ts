/**
 * The exit status conmon records (notes §2): EXITDIR/ID holds the decimal status (128+signal
 * when killed), written as ID.XXXXXX and renamed into place, so a file with the bare id is
 * always complete. PERSIST/oom exists when the kernel's OOM killer ended the container.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { access, mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../common/errors.js';

/** conmon's temporary names carry a '.XXXXXX' suffix; container ids never contain a dot. */
const isExitFileName = (name: string) => name !== '' && !name.includes('.');

/** Reads one exit file: its status and identity (to tell a new run's file from an old one). */
async function readExitFile(path: string): Promise<{ code: number; identity: string } | undefined> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const [stat, text] = await Promise.all([file.stat(), file.readFile('utf8')]);
    const code = Number.parseInt(text.trim(), 10);
    return Number.isNaN(code) ? undefined : { code, identity: `${stat.ino}:${stat.mtimeMs}` };
  } finally {
    await file.close();
  }
}

/** The recorded exit status of container `id`, or undefined if it has not exited (or was cleaned up). */
export async function readExitCode(exitDir: string, id: string): Promise<number | undefined> {
  return (await readExitFile(join(exitDir, id)))?.code;
}

/** Whether conmon saw the container killed by the OOM killer. */
export async function readOomFlag(persistDir: string): Promise<boolean> {
  try {
    await access(join(persistDir, 'oom'));
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Emits ('exit', id, code) once per exit file that appears in the exit dir, and once for each file
 * already there at start() (containers that exited while the daemon was down). Whoever handles
 * an exit deletes its file; a later run of the same container writes a new one, reported anew.
 */
export class ExitWatcher extends EventEmitter {
  private watcher: FSWatcher | undefined;
  /** The identity of the exit file last reported per id, so a file is reported only once. */
  private readonly reported = new Map<string, string>();

  constructor(private readonly exitDir: string) {
    super();
  }

  async start(): Promise<void> {
    await mkdir(this.exitDir, { recursive: true });
    // Watch before scanning, so that an exit between the two is not missed.
    this.watcher = watch(this.exitDir, (_event, name) => {
      if (name === null) void this.scan();
      else if (isExitFileName(name)) void this.check(name);
    });
    this.watcher.on('error', (err) => this.report(err));
    await this.scan();
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async scan(): Promise<void> {
    try {
      const names = await readdir(this.exitDir);
      await Promise.all(names.filter(isExitFileName).map((name) => this.check(name)));
    } catch (err) {
      this.report(err);
    }
  }

  private async check(id: string): Promise<void> {
    try {
      const exit = await readExitFile(join(this.exitDir, id));
      if (!exit) {
        this.reported.delete(id);
        return;
      }
      if (this.reported.get(id) === exit.identity) return;
      this.reported.set(id, exit.identity);
      this.emit('exit', id, exit.code);
    } catch (err) {
      this.report(err);
    }
  }

  /** An 'error' event without listeners would throw; a watcher must not take the daemon down. */
  private report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
