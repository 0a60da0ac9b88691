/**
 * An OCI runtime binary (crun, runc, or any path daemon.json names) and the commands berthd issues
 * to it directly. `create` and `exec` are not here: conmon runs them (see conmon.ts and
 * conmon-exec.ts), so that the process's stdio and exit status belong to conmon and outlive the
 * daemon.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError, errnoCode } from '../common/errors.js';
import { runtimeDetail } from './create-error.js';

export interface Runtime {
  name: string;
  /** Absolute path of the runtime binary. */
  path: string;
  /** The runtime's state directory (`--root`), e.g. EXECROOT/runtime/<name>. */
  root: string;
  /** Extra global arguments from daemon.json's `runtimeArgs`, placed before `--root`. */
  args?: readonly string[];
}

/** The runtimes berthd offers without configuration, when their binary is installed; the first is the default. */
export const BUILTIN_RUNTIMES: readonly string[] = ['crun', 'runc'];

const run = promisify(execFile);

/** Global arguments placed before every subcommand (conmon passes them to `create` too). */
export function runtimeGlobalArgs(rt: Runtime): string[] {
  return [...(rt.args ?? []), '--root', rt.root];
}

// crun says "No such file or directory" about the state folder, runc "container does not exist".
const MISSING_CONTAINER = /does not exist|No such file or directory/;
// The process is not in a state for the command. crun: "container `X` is not running", "open pidfd:
// No such process" (kill after the exit); runc: "container not running", "cannot start a
// container that has stopped", "… that is not stopped" (delete without force), "cannot start an
// already running container".
const WRONG_STATE = /not running|not stopped|not paused|is paused|already paused|already running|has stopped|No such process/i;

function commandError(rt: Runtime, args: readonly string[], err: unknown): BerthError {
  if (errnoCode(err) === 'ENOENT') return new BerthError('unavailable', `${rt.name}: runtime binary ${rt.path} not found`, { cause: err });
  const stderr = runtimeDetail(String((err as { stderr?: unknown }).stderr ?? ''));
  const kind = MISSING_CONTAINER.test(stderr) ? 'not-found' : WRONG_STATE.test(stderr) ? 'conflict' : 'internal';
  return new BerthError(kind, `${rt.name} ${args[0]}: ${stderr || (err as Error).message}`, { cause: err });
}

async function runtimeCommand(rt: Runtime, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(rt.path, [...runtimeGlobalArgs(rt), ...args], { encoding: 'utf8' });
    return stdout;
  } catch (err) {
    throw commandError(rt, args, err);
  }
}

export async function startContainer(rt: Runtime, id: string): Promise<void> {
  await runtimeCommand(rt, ['start', id]);
}

export async function killContainer(rt: Runtime, id: string, signal: string | number): Promise<void> {
  await runtimeCommand(rt, ['kill', id, String(signal)]);
}

export async function pauseContainer(rt: Runtime, id: string): Promise<void> {
  await runtimeCommand(rt, ['pause', id]);
}

export async function resumeContainer(rt: Runtime, id: string): Promise<void> {
  await runtimeCommand(rt, ['resume', id]);
}

/**
 * Applies the OCI LinuxResources object in file `resourcesPath` to the running container's
 * cgroup. (A file, not stdin: crun opens /dev/stdin, which fails on Node's socket pipes.)
 */
export async function updateContainer(rt: Runtime, id: string, resourcesPath: string): Promise<void> {
  await runtimeCommand(rt, ['update', '--resources', resourcesPath, id]);
}

/** Removes the runtime's state (and cgroup) of the container; a container already gone is fine. */
export async function deleteContainer(rt: Runtime, id: string, options: { force: boolean }): Promise<void> {
  try {
    await runtimeCommand(rt, ['delete', ...(options.force ? ['--force'] : []), id]);
  } catch (err) {
    // Without its binary a runtime can have made nothing since; the rest of the teardown goes on.
    if (!(err instanceof BerthError && (err.kind === 'not-found' || errnoCode(err.cause) === 'ENOENT'))) throw err;
  }
}

/**
 * The runtime's delete of `id` as a command line: conmon runs it as its exit command, so that a
 * container's runtime state and cgroups go as soon as it ends, beside berthd's handling of the exit.
 */
export function deleteCommand(rt: Runtime, id: string): { path: string; args: string[] } {
  return { path: rt.path, args: [...runtimeGlobalArgs(rt), 'delete', '--force', id] };
}

/**
 * Whether the runtime may still hold state for `id`. crun and runc keep it in the folder ROOT/ID
 * (created at `create`, removed last by `delete`), so its absence says there is nothing to
 * delete; of another runtime's layout nothing is known.
 */
export async function mayHoldState(rt: Runtime, id: string): Promise<boolean> {
  if (!BUILTIN_RUNTIMES.includes(rt.name)) return true;
  try {
    await access(join(rt.root, id));
    return true;
  } catch (err) {
    return errnoCode(err) !== 'ENOENT';
  }
}

export interface RuntimeState {
  /** 'creating' | 'created' | 'running' | 'stopped' | 'paused' */
  status: string;
  pid: number;
}

/** The runtime's view of the container, or undefined when it has no such container. */
export async function containerState(rt: Runtime, id: string): Promise<RuntimeState | undefined> {
  let out: string;
  try {
    out = await runtimeCommand(rt, ['state', id]);
  } catch (err) {
    if (err instanceof BerthError && err.kind === 'not-found') return undefined;
    throw err;
  }
  const state = JSON.parse(out) as { status: string; pid: number };
  return { status: state.status, pid: state.pid };
}

/** Every container the runtime holds state for under its root (crun prints [], runc null when none). */
export async function listContainers(rt: Runtime): Promise<Array<{ id: string } & RuntimeState>> {
  const out = await runtimeCommand(rt, ['list', '--format', 'json']);
  const entries = (JSON.parse(out) as Array<{ id: string; status: string; pid: number }> | null) ?? [];
  return entries.map(({ id, status, pid }) => ({ id, status, pid }));
}
