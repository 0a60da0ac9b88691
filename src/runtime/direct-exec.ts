/**
 * An exec without a terminal, run by crun as berthd's own child instead of under conmon:
 * `crun exec --process P --pid-file F CTR`, not detached, hands the process crun's own stdio
 * (berthd's pipes), waits for it and exits with its status (128+N after signal N). Under conmon
 * half of an exec's launch was conmon's own (its double fork, the attach-socket handshake, then its
 * start of the runtime): docs/performance.md has the figures. A terminal still needs conmon (it
 * holds the console and resizes it), and so does runc (see runsExecDirectly).
 *
 * Whether the process started is told by the pid file: crun writes it just before the process
 * runs, and never when the process could not start (a missing command, a working dir that does not
 * exist). crun then exits with 255 and says why on its stderr, which is the process's stderr too:
 * with no process it holds only that complaint.
 */
import { spawn } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../common/errors.js';
import type { AttachSocket } from './attach-socket.js';
import type { StdStream } from './container-runtime.js';
import { execFailure } from './create-error.js';
import type { OciSpec } from './oci-spec.js';
import { runtimeGlobalArgs, type Runtime } from './runtime.js';

export interface DirectExecLaunch {
  runtime: Runtime;
  containerId: string;
  /** The exec's own folder, made by the caller (process.json, pid file); removed when the process has ended. */
  dir: string;
  process: OciSpec['process'];
  stdin: boolean;
}

export interface LaunchedDirectExec {
  pid: number;
  /** The process's stdio, in the shape conmon's attach socket has. */
  socket: AttachSocket;
  /** The exit status, once the process ended and its folder is gone. */
  exited: Promise<number>;
}

const PID_FILE = 'exec_pid';

/**
 * Whether `runtime` is crun, which exits as soon as the process has (tried with crun 1.8.1);
 * runc waits until every holder of the process's stdio has closed it.
 */
export function runsExecDirectly(runtime: Runtime): boolean {
  return basename(runtime.path) === 'crun';
}

/**
 * After the runtime has exited, how long the output may still take to end: a background child
 * of the process that holds its stdout would otherwise keep the exec running (conmon, too, stops
 * reading when the process has exited).
 */
const OUTPUT_DRAIN_MS = 250;

/** The pid the runtime wrote, or undefined while the file is absent or not yet written. */
async function readPid(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, PID_FILE), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** The runtime's exit as an exit status: its code, or 128+N when signal N ended it. */
function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? constants.signals[signal] : 0);
}

/**
 * The process's pipes as an AttachSocket: output as it comes, stdin written through, and an end
 * once both outputs have ended, or OUTPUT_DRAIN_MS after the runtime exited. It reads from the
 * start: Node throws away the output of a child that has exited with nobody reading it, so what
 * comes before the first listener is kept for it.
 */
class PipeAttachSocket implements AttachSocket {
  private readonly dataListeners: Array<(stream: StdStream, chunk: Buffer) => void> = [];
  private readonly endListeners: Array<() => void> = [];
  private readonly early: Array<{ stream: StdStream; chunk: Buffer }> = [];
  private openOutputs = 2;
  private ended = false;
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stdout: Readable,
    private readonly stderr: Readable,
    private readonly input: Writable | null,
    exit: Promise<unknown>,
  ) {
    for (const [stream, pipe] of [['stdout', stdout], ['stderr', stderr]] as const) {
      pipe.on('data', (chunk: Buffer) => this.deliver(stream, chunk));
      let open = true;
      const closed = () => {
        if (!open) return;
        open = false;
        if (--this.openOutputs === 0) this.finish();
      };
      pipe.once('end', closed).once('close', closed).on('error', closed);
    }
    input?.on('error', () => {}); // a process that closed its stdin: the write fails, the rest goes on
    void exit.finally(() => {
      if (!this.ended) this.drainTimer = setTimeout(() => this.close(), OUTPUT_DRAIN_MS);
    });
  }

  on(event: 'data', listener: (stream: StdStream, chunk: Buffer) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'data' | 'end', listener: ((stream: StdStream, chunk: Buffer) => void) | (() => void)): this {
    if (event === 'end') {
      if (this.ended) queueMicrotask(listener as () => void);
      else this.endListeners.push(listener as () => void);
      return this;
    }
    const onData = listener as (stream: StdStream, chunk: Buffer) => void;
    this.dataListeners.push(onData);
    for (const { stream, chunk } of this.early.splice(0)) onData(stream, chunk);
    return this;
  }

  /** What came on `stream` before anyone listened. */
  unread(stream: StdStream): string {
    return Buffer.concat(this.early.filter((entry) => entry.stream === stream).map((entry) => entry.chunk)).toString('utf8');
  }

  /** Resolves once both outputs have ended. */
  whenEnded(): Promise<void> {
    return new Promise((resolve) => this.on('end', resolve));
  }

  private deliver(stream: StdStream, chunk: Buffer): void {
    if (this.dataListeners.length === 0) this.early.push({ stream, chunk });
    for (const listener of this.dataListeners) listener(stream, chunk);
  }

  write(data: Buffer): Promise<void> {
    const input = this.input;
    if (!input || input.destroyed || input.writableEnded) return Promise.resolve();
    return new Promise((resolve) => input.write(data, () => resolve()));
  }

  closeStdin(): void {
    this.input?.end();
  }

  close(): void {
    this.input?.destroy();
    this.stdout.destroy();
    this.stderr.destroy();
    this.finish();
  }

  private finish(): void {
    clearTimeout(this.drainTimer);
    if (this.ended) return;
    this.ended = true;
    for (const listener of this.endListeners.splice(0)) listener();
  }
}

/** Starts the exec; resolves once the process runs, its output flowing. */
export async function launchDirectExec(opts: DirectExecLaunch): Promise<LaunchedDirectExec> {
  const { dir } = opts;
  const removeDir = () => rm(dir, { recursive: true, force: true });
  const processFile = join(dir, 'process.json');
  let watcher: FSWatcher | undefined;
  let socket: PipeAttachSocket | undefined;
  let exit: Promise<number> | undefined;
  try {
    await writeFile(processFile, JSON.stringify(opts.process));
    // Watched before the runtime starts, so that the pid file cannot appear unseen.
    let seePid: (pid: number) => void = () => {};
    const pidSeen = new Promise<number>((resolve) => (seePid = resolve));
    watcher = watch(dir, (_event, name) => {
      if (name === PID_FILE) void readPid(dir).then((pid) => pid && seePid(pid));
    });
    watcher.on('error', () => {}); // the folder goes at the end; the exit decides then
    const args = [...runtimeGlobalArgs(opts.runtime), 'exec', '--process', processFile, '--pid-file', join(dir, PID_FILE), opts.containerId];
    const child = spawn(opts.runtime.path, args, {
      cwd: dir,
      // Its own process group, as conmon's: a signal to berthd's group does not end the exec.
      detached: true,
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    exit = new Promise<number>((resolve, reject) => {
      child.once('error', reject).once('exit', (code, signal) => resolve(exitStatus(code, signal)));
    });
    socket = new PipeAttachSocket(child.stdout as Readable, child.stderr as Readable, child.stdin, exit);
    const pid = await Promise.race([pidSeen, exit.then(async () => (await readPid(dir)) ?? 0)]);
    watcher.close();
    if (pid === 0) {
      await socket.whenEnded();
      const complaint = socket.unread('stderr').trim();
      throw execFailure(complaint || `${opts.runtime.name} exec exited with ${await exit}`, opts.process.args[0] ?? '');
    }
    return { pid, socket, exited: exit.finally(removeDir) };
  } catch (err) {
    watcher?.close();
    socket?.close();
    await exit?.catch(() => {});
    await removeDir();
    if (err instanceof BerthError) throw err;
    throw new BerthError('internal', `${opts.runtime.name} exec could not be started`, { cause: err });
  }
}
