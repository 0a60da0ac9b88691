/**
 * The exit status conmon records (notes §2): EXITDIR/ID holds the decimal status (128+signal
 * when killed), written as ID.XXXXXX and renamed into place, so a file with the bare id is
 * always complete, and its mtime is when the process ended. PERSIST/oom exists when the
 * kernel's OOM killer ended the container.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { access, mkdir, open, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errnoCode } from '../common/errors.js';

/** conmon's temporary names carry a '.XXXXXX' suffix; container ids never contain a dot. */
const isExitFileName = (name: string) => name !== '' && !name.includes('.');

/** After a watcher error, the pause before watching (and scanning) again. */
const REWATCH_DELAY_MS = 1000;

export interface RecordedExit {
  code: number;
  /** The exit file's mtime: conmon writes it as the process ends. */
  finishedAt: Date;
}

/** Reads one exit file: its status, time and identity (to tell a new run's file from an old one). */
async function readExitFile(path: string): Promise<(RecordedExit & { identity: string }) | undefined> {
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
    if (Number.isNaN(code)) return undefined;
    return { code, finishedAt: stat.mtime, identity: `${stat.ino}:${stat.mtimeMs}` };
  } finally {
    await file.close();
  }
}

/** The recorded exit of container `id`, or undefined if it has not exited (or was cleaned up). */
export async function readExit(exitDir: string, id: string): Promise<RecordedExit | undefined> {
  const exit = await readExitFile(join(exitDir, id));
  return exit && { code: exit.code, finishedAt: exit.finishedAt };
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
 * Emits ('exit', id, code, finishedAt) once per exit file that appears in the exit dir, and once
 * for each file already there at start() (containers that exited while the daemon was down).
 * Whoever handles an exit deletes its file; a later run of the same container writes a new one,
 * reported anew.
 *
 * Errors are emitted as 'error' (when someone listens) and never stop the watching: after a
 * failed read the folder is scanned again, after a failed watch it is watched and scanned again,
 * so a file that appeared meanwhile is still reported.
 */
export class ExitWatcher extends EventEmitter {
  private watcher: FSWatcher | undefined;
  private rewatchTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The identity of the exit file last reported per id, so a file is reported only once. */
  private readonly reported = new Map<string, string>();

  constructor(private readonly exitDir: string) {
    super();
  }

  async start(): Promise<void> {
    await mkdir(this.exitDir, { recursive: true });
    this.watchDir();
    await this.scan();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.rewatchTimer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Watches before scanning, so that an exit between the two is not missed. */
  private watchDir(): void {
    try {
      this.watcher = watch(this.exitDir, (_event, name) => {
        // The folder itself went (inotify then says nothing more): watch it anew once it is back.
        if (name === basename(this.exitDir)) void access(this.exitDir).catch((err) => this.failed(err));
        if (name === null) void this.scan();
        else if (isExitFileName(name)) void this.check(name);
      });
    } catch (err) {
      this.failed(err);
      return;
    }
    this.watcher.on('error', (err) => this.failed(err));
  }

  /** The watch broke (folder removed, inotify limits): report it, then watch and scan anew. */
  private failed(err: unknown): void {
    this.report(err);
    this.watcher?.close();
    this.watcher = undefined;
    this.scheduleRewatch();
  }

  private scheduleRewatch(): void {
    if (this.closed || this.rewatchTimer) return;
    this.rewatchTimer = setTimeout(() => {
      this.rewatchTimer = undefined;
      if (this.closed) return;
      void mkdir(this.exitDir, { recursive: true })
        .then(() => {
          if (this.closed) return;
          if (!this.watcher) this.watchDir();
          return this.scan();
        })
        .catch((err) => {
          this.report(err);
          this.scheduleRewatch();
        });
    }, REWATCH_DELAY_MS);
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.exitDir);
    } catch (err) {
      this.report(err);
      this.scheduleRewatch();
      return;
    }
    await Promise.all(names.filter(isExitFileName).map((name) => this.check(name)));
  }

  private async check(id: string): Promise<void> {
    let exit;
    try {
      exit = await readExitFile(join(this.exitDir, id));
    } catch (err) {
      // EMFILE, EIO…: the file is still there; the scan after the pause reads it again.
      this.report(err);
      this.scheduleRewatch();
      return;
    }
    if (!exit) {
      this.reported.delete(id);
      return;
    }
    if (this.reported.get(id) === exit.identity) return;
    this.reported.set(id, exit.identity);
    try {
      this.emit('exit', id, exit.code, exit.finishedAt);
    } catch (err) {
      // A listener that throws must not make the watcher forget later exits.
      this.report(err);
    }
  }

  /** An 'error' event without listeners would throw; a watcher must not take the daemon down. */
  private report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
