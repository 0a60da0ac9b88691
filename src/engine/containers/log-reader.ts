import type { FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import type { LogFiles, OpenLogFile } from './log-files.js';
import type { StreamName } from './attach-hub.js';

/**
 * Reads a container's log as conmon writes it (k8s-file: `TIME STREAM F|P PAYLOAD\n`, where P
 * marks a partial line that conmon split; the payloads of P lines join up to the next F line).
 */
export interface LogEntry {
  stream: StreamName;
  /** Nanoseconds since the epoch, for --since/--until. */
  timeNs: bigint;
  /** RFC 3339 in UTC with 9 fraction digits, as `docker logs -t` prints. */
  timestamp: string;
  payload: Buffer;
}

export interface LogReadOptions {
  stdout: boolean;
  stderr: boolean;
  sinceNs?: bigint;
  untilNs?: bigint;
  /** Number of last entries, or undefined for all. */
  tail?: number;
  follow: boolean;
}

export interface LogSource {
  /** The container's log files (rotated ones and the live one). */
  files: LogFiles;
  /** True while more output can come; when it turns false, follow drains the file and stops. */
  isLive(): boolean;
  /** Calls back once the container stops (or at once if it is stopped). Returns an unsubscribe. */
  onStop(callback: () => void): () => void;
  /** Calls back after each rotation of the log. Returns an unsubscribe. */
  onRotate(callback: () => void): () => void;
}

const READ_SIZE = 64 * 1024;

/** Parses conmon's local-time timestamp into UTC nanoseconds and Docker's fixed-width form. */
export function parseLogTime(text: string): { timeNs: bigint; timestamp: string } | undefined {
  const match = text.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/);
  if (!match) return undefined;
  const [, seconds, fraction = '', zone] = match;
  const ms = Date.parse(`${seconds}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  const nanos = fraction.padEnd(9, '0');
  const timeNs = BigInt(ms) * 1_000_000n + BigInt(nanos);
  const utc = new Date(ms).toISOString().slice(0, 19);
  return { timeNs, timestamp: `${utc}.${nanos}Z` };
}

/** Splits a buffer of complete lines into records; returns the unconsumed tail. */
class LineParser {
  private partial: Buffer[] = [];
  private partialHead: Omit<LogEntry, 'payload'> | undefined;

  /** Feeds one log line (without its newline); returns a finished entry or undefined. */
  line(line: Buffer): LogEntry | undefined {
    const s1 = line.indexOf(0x20);
    const s2 = line.indexOf(0x20, s1 + 1);
    const s3 = line.indexOf(0x20, s2 + 1);
    if (s1 < 0 || s2 < 0 || s3 < 0) return undefined;
    const time = parseLogTime(line.subarray(0, s1).toString('latin1'));
    const stream = line.subarray(s1 + 1, s2).toString('latin1');
    const tag = line.subarray(s2 + 1, s3).toString('latin1');
    if (!time || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
    const payload = line.subarray(s3 + 1);
    if (tag.startsWith('P')) {
      this.partial.push(payload);
      this.partialHead ??= { stream, ...time };
      return undefined;
    }
    const whole = this.partial.length > 0 ? Buffer.concat([...this.partial, payload, NEWLINE]) : Buffer.concat([payload, NEWLINE]);
    this.partial = [];
    this.partialHead = undefined;
    return { stream, ...time, payload: whole };
  }

  /** Output that never got its newline (`printf abc`), as it stands, without one. */
  flush(): LogEntry | undefined {
    if (!this.partialHead) return undefined;
    const entry = { ...this.partialHead, payload: Buffer.concat(this.partial) };
    this.partial = [];
    this.partialHead = undefined;
    return entry;
  }
}

const NEWLINE = Buffer.from('\n');

function wanted(entry: LogEntry, options: LogReadOptions): boolean {
  if (entry.stream === 'stdout' ? !options.stdout : !options.stderr) return false;
  if (options.sinceNs !== undefined && entry.timeNs < options.sinceNs) return false;
  if (options.untilNs !== undefined && entry.timeNs > options.untilNs) return false;
  return true;
}

/** Reads whole lines appended since `offset`; returns them and the new offset. */
async function readLines(file: FileHandle, offset: number, carry: Buffer): Promise<{ lines: Buffer[]; offset: number; carry: Buffer }> {
  const lines: Buffer[] = [];
  const buffer = Buffer.allocUnsafe(READ_SIZE);
  for (;;) {
    const { bytesRead } = await file.read(buffer, 0, READ_SIZE, offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
    let chunk = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : Buffer.from(buffer.subarray(0, bytesRead));
    let newline: number;
    while ((newline = chunk.indexOf(0x0a)) >= 0) {
      lines.push(chunk.subarray(0, newline));
      chunk = chunk.subarray(newline + 1);
    }
    carry = chunk;
    if (lines.length >= 1024) break; // hand a batch out before reading on: bounded memory
  }
  return { lines, offset, carry };
}

/**
 * Yields log entries, oldest first, across the rotated files and the live one. Without follow it
 * reads to the end of what is there; with follow it then waits for appends (inotify, no polling)
 * and moves on to the next file after each rotation, until the container stops, `until` has
 * passed, or `signal` aborts.
 */
export async function* readLogs(source: LogSource, options: LogReadOptions, signal: AbortSignal): AsyncGenerator<LogEntry> {
  const files = await source.files.openAll();
  if (files.length === 0) return; // a container that never started has no log yet
  const parser = new LineParser();
  // Whatever ends the generator, every file still open is closed.
  const unclosed = new Set(files);
  let current = files.at(-1)!;
  try {
    // Phase 1: what is already there; with a tail, only the last N entries (a bounded ring).
    const ring: LogEntry[] = [];
    let offset = 0;
    let carry: Buffer = Buffer.alloc(0);
    for (const file of files) {
      current = file;
      offset = 0;
      carry = Buffer.alloc(0);
      for (;;) {
        const batch = await readLines(file.handle, offset, carry);
        ({ offset, carry } = batch);
        if (batch.lines.length === 0) break;
        for (const line of batch.lines) {
          const entry = parser.line(line);
          if (!entry || !wanted(entry, options)) continue;
          if (options.tail === undefined) yield entry;
          else if (options.tail > 0) {
            ring.push(entry);
            if (ring.length > options.tail) ring.shift();
          }
        }
        if (signal.aborted) return;
      }
      if (file !== files.at(-1)) {
        unclosed.delete(file);
        await file.handle.close();
      }
    }
    if (!options.follow) {
      const rest = parser.flush();
      if (rest && wanted(rest, options)) {
        ring.push(rest);
        if (options.tail !== undefined && ring.length > options.tail) ring.shift();
      }
      if (options.tail === undefined || options.tail > 0) yield* ring;
      return;
    }
    yield* ring;
    unclosed.delete(current);
    const follower = follow(source, options, signal, parser, current, { offset, carry });
    try {
      yield* follower.entries;
    } finally {
      unclosed.add(follower.current());
    }
  } finally {
    await Promise.all([...unclosed].map((file) => file.handle.close()));
  }
}

/**
 * Phase 2 of readLogs: appends to `start` from `offset` on, then the files that follow it. A
 * rotation nudges the follower, which drains the renamed file (the monitor no longer writes it
 * once the new live file exists) and opens its successor.
 */
function follow(
  source: LogSource,
  options: LogReadOptions,
  signal: AbortSignal,
  parser: LineParser,
  start: OpenLogFile,
  position: { offset: number; carry: Buffer },
): { entries: AsyncGenerator<LogEntry>; current: () => OpenLogFile } {
  let file = start;
  async function* entries(): AsyncGenerator<LogEntry> {
    // `changed` records a nudge that came while we were reading, so no wake-up is ever lost.
    let wake: (() => void) | null = null;
    let changed = false;
    const nudge = () => {
      changed = true;
      wake?.();
      wake = null;
    };
    let watcher: FSWatcher | undefined;
    const watchFile = () => {
      watcher?.close();
      try {
        watcher = watch(file.path, nudge);
      } catch {
        watcher = undefined; // renamed meanwhile: the rotation's nudge follows
      }
    };
    watchFile();
    // The run that was live ends the follow even when a restart policy starts the next one
    // (still `Running`, as Docker's Restarting is): moby closes the run's logger, and its readers.
    let runEnded = false;
    const endRun = () => {
      runEnded = true;
      nudge();
    };
    const unsubscribe = [source.onStop(endRun), source.onRotate(nudge)];
    signal.addEventListener('abort', nudge, { once: true });
    // Past `until` nothing more can be wanted: stop then, as dockerd does.
    const untilMs = options.untilNs === undefined ? undefined : Number(options.untilNs / 1_000_000n) - Date.now();
    const untilTimer = untilMs === undefined ? undefined : setTimeout(nudge, Math.max(0, untilMs) + 1);
    const pastUntil = () => options.untilNs !== undefined && BigInt(Date.now()) * 1_000_000n > options.untilNs;
    let { offset, carry } = position;
    try {
      for (;;) {
        changed = false;
        const live = !runEnded && source.isLive();
        const batch = await readLines(file.handle, offset, carry);
        ({ offset, carry } = batch);
        for (const line of batch.lines) {
          const entry = parser.line(line);
          if (entry && wanted(entry, options)) yield entry;
        }
        if (signal.aborted) return;
        if (batch.lines.length > 0) continue;
        const next = await source.files.successor(file);
        if (next) {
          // Lines may have landed in the old file between the read above and the rotation; it
          // is final now (the monitor let go of it before creating its successor): finish it.
          for (;;) {
            const rest = await readLines(file.handle, offset, carry);
            ({ offset, carry } = rest);
            for (const line of rest.lines) {
              const entry = parser.line(line);
              if (entry && wanted(entry, options)) yield entry;
            }
            if (rest.lines.length === 0) break;
          }
          await file.handle.close();
          file = next;
          offset = 0;
          carry = Buffer.alloc(0);
          watchFile();
          continue;
        }
        if (!live || pastUntil()) {
          const rest = parser.flush();
          if (rest && wanted(rest, options)) yield rest;
          return;
        }
        if (!changed) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      }
    } finally {
      watcher?.close();
      clearTimeout(untilTimer);
      for (const off of unsubscribe) off();
      signal.removeEventListener('abort', nudge);
    }
  }
  return { entries: entries(), current: () => file };
}
