import { open, type FileHandle } from 'node:fs/promises';
import { watch } from 'node:fs';
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
  path: string;
  /** True while more output can come; when it turns false, follow drains the file and stops. */
  isLive(): boolean;
  /** Calls back once the container stops (or at once if it is stopped). Returns an unsubscribe. */
  onStop(callback: () => void): () => void;
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
 * Yields log entries. Without follow it reads to the end of the file; with follow it then waits
 * for appends (fs.watch, no polling) until the source stops or `signal` aborts.
 */
export async function* readLogs(source: LogSource, options: LogReadOptions, signal: AbortSignal): AsyncGenerator<LogEntry> {
  let file: FileHandle;
  try {
    file = await open(source.path, 'r');
  } catch {
    return; // a container that never started has no log yet
  }
  const parser = new LineParser();
  let offset = 0;
  let carry: Buffer = Buffer.alloc(0);
  try {
    // Phase 1: what is already there; with a tail, only the last N entries (a bounded ring).
    const ring: LogEntry[] = [];
    for (;;) {
      const batch = await readLines(file, offset, carry);
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

    // Phase 2: follow appends until the container stops.
    // `changed` records a nudge that came while we were reading, so no wake-up is ever lost.
    let wake: (() => void) | null = null;
    let changed = false;
    const nudge = () => {
      changed = true;
      wake?.();
      wake = null;
    };
    const watcher = watch(source.path, nudge);
    const unsubscribe = source.onStop(nudge);
    signal.addEventListener('abort', nudge, { once: true });
    try {
      for (;;) {
        changed = false;
        const live = source.isLive();
        const { size } = await file.stat();
        if (size < offset) offset = 0; // conmon truncated the file (--log-size-max)
        const batch = await readLines(file, offset, carry);
        ({ offset, carry } = batch);
        for (const line of batch.lines) {
          const entry = parser.line(line);
          if (entry && wanted(entry, options)) yield entry;
        }
        if (signal.aborted) return;
        if (batch.lines.length > 0) continue;
        if (!live) {
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
      watcher.close();
      unsubscribe();
      signal.removeEventListener('abort', nudge);
    }
  } finally {
    await file.close();
  }
}
