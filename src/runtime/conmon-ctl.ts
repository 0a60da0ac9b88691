/**
 * conmon's control fifo, BUNDLE/ctl: one line per command, `1 ROWS COLS` resizes the tty, `2 0 0`
 * reopens the log file (conmon closes it, creates PATH.tmp and renames it to PATH).
 *
 * conmon 2.1.6 parses only the first line of each read and applies it once per line (fixed in
 * 2.2.0): two resizes that land in one read both become the first. So writes to one container's
 * fifo are queued, each followed by a pause long enough for conmon to read it alone.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, errnoCode } from '../common/errors.js';

const PAUSE_AFTER_WRITE_MS = 20;

/** The tail of each bundle's write queue; an entry is dropped once its queue is empty. */
const queues = new Map<string, Promise<void>>();

async function writeLine(bundleDir: string, line: string): Promise<void> {
  let fifo;
  try {
    // Non-blocking: with no reader (conmon gone) open fails with ENXIO instead of hanging.
    fifo = await open(join(bundleDir, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === 'ENXIO' || errnoCode(err) === 'ENOENT') throw conflict('the container is not running');
    throw err;
  }
  try {
    await fifo.write(line);
  } finally {
    await fifo.close();
  }
}

function enqueue(bundleDir: string, line: string): Promise<void> {
  const previous = queues.get(bundleDir) ?? Promise.resolve();
  const written = previous.then(() => writeLine(bundleDir, line));
  const tail = written.catch(() => {}).then(() => sleep(PAUSE_AFTER_WRITE_MS));
  queues.set(bundleDir, tail);
  void tail.then(() => {
    if (queues.get(bundleDir) === tail) queues.delete(bundleDir);
  });
  return written;
}

/** Sets the container's tty size. Works once created, before `start` too. */
export function resizeTty(bundleDir: string, height: number, width: number): Promise<void> {
  return enqueue(bundleDir, `1 ${Math.trunc(height)} ${Math.trunc(width)}\n`);
}

/** Has conmon reopen the container's log path (after the engine renamed the file away). */
export function reopenLog(bundleDir: string): Promise<void> {
  return enqueue(bundleDir, '2 0 0\n');
}
