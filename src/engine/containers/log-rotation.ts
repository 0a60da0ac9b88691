/**
 * Rotates a running container's log at max-size (json-file's and local's `max-size`/`max-file`).
 * berthd rotates rather than conmon: conmon's --log-size-max empties the file, losing every line
 * in it, where Docker keeps max-file files. The check runs when the file changes (inotify on the
 * live file), so a file can pass max-size by what was written while the check ran, unlike
 * dockerd, which checks before each write. While berthd is down nothing rotates; the first check
 * after it starts again does.
 */
import { stat } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import type { LogFiles } from './log-files.js';

export class LogRotator {
  private watcher: FSWatcher | undefined;
  private checking = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly files: LogFiles,
    private readonly maxSize: number,
    private readonly reopen: () => Promise<void>,
    /** Told after each rotation, once the new live file exists (followers move on to it). */
    private readonly rotated: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    void this.files
      .restoreLive(this.reopen)
      .catch((err) => this.onError(err))
      .then(() => {
        this.watchLive();
        this.check();
      });
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** inotify follows an inode: after each rotation the new live file is watched afresh. */
  private watchLive(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.stopped) return;
    try {
      this.watcher = watch(this.files.path, () => this.check());
      this.watcher.on('error', () => this.watchLive());
    } catch {
      // No live file (the monitor did not reopen it): the next run's rotator watches its own.
    }
  }

  /** One check at a time; a change during one asks for another. */
  private check(): void {
    if (this.stopped) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    void this.rotateIfFull()
      .catch((err) => this.onError(err))
      .finally(() => {
        this.checking = false;
        if (this.again) {
          this.again = false;
          this.check();
        }
      });
  }

  private async rotateIfFull(): Promise<void> {
    const size = await stat(this.files.path).then((s) => s.size, () => 0);
    if (size < this.maxSize) return;
    await this.files.rotate(this.reopen);
    this.watchLive();
    this.rotated();
    this.again = true; // the new file may have filled already
  }
}
