/**
 * docker cp and export, from the daemon's side: each call runs copy-helper.ts, chrooted into the
 * container's root, and streams its tar. No path of the container is ever resolved in berthd.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { BerthError, wrap } from '../common/errors.js';
import { findExecutable } from '../runtime/executables.js';
import { helperFailure, type HelperFailure } from './helper-process.js';
import type { PathStat } from './path-stat.js';
import { helperEnv } from './helper-env.js';

const HELPER = fileURLToPath(new URL('./copy-helper.js', import.meta.url));
const UNSHARE = findExecutable('unshare') ?? 'unshare';

/** How the binds of a stopped container's root reach the helper (JSON of Bind[]). */
export const BINDS_VARIABLE = 'BERTH_COPY_BINDS';

/**
 * Where a container's files are: a directory (a stopped container's mounted layer), or an open
 * directory descriptor the caller pinned (a running container's /proc/PID/root, which shows its
 * volumes and tmpfs mounts too). The caller keeps it open until the call has spawned its helper.
 */
export type ContainerRoot = { path: string; binds?: readonly Bind[] } | { fd: number };

/**
 * A file or directory of the host shown at `destination` in a stopped container's root, as its
 * run would mount it (the generated /etc/hosts, volumes): the helper binds it in a mount
 * namespace of its own, which goes away with it.
 */
export interface Bind {
  source: string;
  destination: string;
}

export interface ExtractOptions {
  noOverwriteDirNonDir: boolean;
  /** Config.User of the container when `copyUIDGID` asks for it: every entry gets its owner. */
  user?: string;
}

// Failures of the disk rather than of the tar: not the caller's fault.
const STORAGE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);

function startHelper(root: ContainerRoot, args: string[], input: 'pipe' | 'ignore'): ChildProcess {
  if ('fd' in root) return spawn(process.execPath, [HELPER, '/proc/self/fd/3', ...args], { stdio: [input, 'pipe', 'pipe', root.fd], env: helperEnv() });
  const helper = [process.execPath, HELPER, root.path, ...args];
  if (!root.binds?.length) return spawn(helper[0], helper.slice(1), { stdio: [input, 'pipe', 'pipe'], env: helperEnv() });
  // unshare(1) gives the helper its own mount namespace (private: nothing it mounts reaches the host's).
  return spawn(UNSHARE, ['--mount', '--propagation', 'private', ...helper], {
    stdio: [input, 'pipe', 'pipe'],
    env: helperEnv({ [BINDS_VARIABLE]: JSON.stringify(root.binds) }),
  });
}

/** A failure of the helper as an error of its kind: a missing path is not-found, a bad tar the caller's. */
function failureError(failure: HelperFailure, callerFault: boolean): BerthError {
  if (failure.code === 'ENOENT') return new BerthError('not-found', failure.message);
  if (failure.code === 'EINVALID') return new BerthError('invalid-parameter', failure.message);
  const storage = failure.code !== undefined && STORAGE_ERRORS.has(failure.code);
  return new BerthError(callerFault && !storage ? 'invalid-parameter' : 'internal', failure.message);
}

/** Resolves with the helper's exit once it closed; the failure it reported, if any. */
async function outcome(helper: ChildProcess, stderr: Buffer[]): Promise<HelperFailure | undefined> {
  const [status, signal] = (await once(helper, 'close')) as [number | null, NodeJS.Signals | null];
  return status === 0 ? undefined : helperFailure(Buffer.concat(stderr).toString('utf8'), status, signal);
}

function collect(stream: Readable | null): Buffer[] {
  const chunks: Buffer[] = [];
  stream?.on('data', (chunk: Buffer) => chunks.push(chunk));
  return chunks;
}

/** HEAD archive: the stat of `path` in the container. */
export async function statPath(root: ContainerRoot, path: string): Promise<PathStat> {
  const helper = startHelper(root, ['stat', path], 'ignore');
  const stdout = collect(helper.stdout);
  const failure = await outcome(helper, collect(helper.stderr)).catch((err: unknown) => {
    throw wrap(err, 'starting the copy helper');
  });
  if (failure) throw failureError(failure, false);
  return JSON.parse(Buffer.concat(stdout).toString('utf8')) as PathStat;
}

/**
 * GET archive: the stat of `path` and the tar of it, streamed as it is made. A failure before
 * the first tar byte is thrown (a missing path is not-found); after, it is an error of the stream.
 * Destroying the stream stops the helper.
 */
export async function archivePath(root: ContainerRoot, path: string): Promise<{ stat: PathStat; tar: Readable }> {
  const helper = startHelper(root, ['archive', path], 'ignore');
  const stderr = collect(helper.stderr);
  const exited = outcome(helper, stderr);
  exited.catch(() => {}); // awaited below, or reported through the stream
  const stdout = helper.stdout!;
  // The stat line and the first bytes of the tar: a path that vanishes between the two (a
  // container swapping it) is still answered with an error status rather than a cut stream.
  let head = Buffer.alloc(0);
  for await (const chunk of stdout.iterator({ destroyOnReturn: false })) {
    head = Buffer.concat([head, chunk as Buffer]);
    const newline = head.indexOf(0x0a);
    if (newline !== -1 && newline < head.length - 1) break;
  }
  const newline = head.indexOf(0x0a);
  if (newline === -1 || newline === head.length - 1) {
    const failure = await exited;
    throw failureError(failure ?? { message: 'the copy helper ended without an answer' }, false);
  }
  const stat = JSON.parse(head.subarray(0, newline).toString('utf8')) as PathStat;
  const tar = new PassThrough();
  tar.write(head.subarray(newline + 1));
  stdout.pipe(tar, { end: false });
  exited.then(
    (failure) => (failure ? tar.destroy(failureError(failure, false)) : tar.end()),
    (err: unknown) => tar.destroy(err as Error),
  );
  tar.on('close', () => stopHelper(helper));
  return { stat, tar };
}

/** PUT archive: unpacks `tar` (plain or gzip) into the directory `path` of the container. */
export async function extractArchive(root: ContainerRoot, path: string, tar: Readable, options: ExtractOptions): Promise<void> {
  const helper = startHelper(root, ['extract', path, options.noOverwriteDirNonDir ? '1' : '0', options.user ?? ''], 'pipe');
  const exited = outcome(helper, collect(helper.stderr));
  exited.catch(() => {}); // awaited below
  // A helper that refused the path early closes its stdin: its own report says why.
  const feedError = await pipeline(tar, helper.stdin!).then(
    () => undefined,
    (err: unknown) => err,
  );
  const failure = await exited.catch((err: unknown) => {
    throw wrap(err, 'starting the copy helper');
  });
  if (failure) throw failureError(failure, true);
  if (feedError !== undefined) throw new BerthError('invalid-parameter', `reading the archive: ${(feedError as Error).message}`, { cause: feedError });
}

/** GET export: the tar of the container's whole root, streamed; destroying it stops the helper. */
export function exportRoot(root: ContainerRoot): Readable {
  const helper = startHelper(root, ['export'], 'ignore');
  const tar = new PassThrough();
  helper.stdout!.pipe(tar, { end: false });
  outcome(helper, collect(helper.stderr)).then(
    (failure) => (failure ? tar.destroy(failureError(failure, false)) : tar.end()),
    (err: unknown) => tar.destroy(err as Error),
  );
  tar.on('close', () => stopHelper(helper));
  return tar;
}

function stopHelper(helper: ChildProcess): void {
  if (helper.exitCode === null && helper.signalCode === null) helper.kill('SIGKILL');
}
