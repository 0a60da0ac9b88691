/**
 * The OCI runtimes berthd can drive (crun by default, runc on request) and the four runtime
 * commands the engine issues itself. `create` is not here: conmon runs it (see conmon.ts), so that
 * the container's stdio and exit status belong to conmon and outlive the daemon.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError, invalidParameter } from '../common/errors.js';
import { findExecutable } from './executables.js';

export interface Runtime {
  name: string;
  /** Absolute path of the runtime binary. */
  path: string;
  /** The runtime's state directory (`--root`), e.g. EXECROOT/runtime/<name>. */
  root: string;
}

export const DEFAULT_RUNTIME = 'crun';
const RUNTIME_NAMES = [DEFAULT_RUNTIME, 'runc'];

const run = promisify(execFile);

let installed: Array<{ name: string; path: string }> | undefined;

/** The runtimes installed on this host, looked up once. */
export function knownRuntimes(): Array<{ name: string; path: string }> {
  installed ??= RUNTIME_NAMES.flatMap((name) => {
    const path = findExecutable(name);
    return path ? [{ name, path }] : [];
  });
  return installed;
}

/** The runtime called `name` ('' means the default), with its state kept under `execRoot`. */
export function resolveRuntime(name: string, execRoot: string): Runtime {
  const wanted = name || DEFAULT_RUNTIME;
  const found = knownRuntimes().find((r) => r.name === wanted);
  if (!found) throw invalidParameter(`unknown or invalid runtime name: ${wanted}`);
  return { ...found, root: join(execRoot, 'runtime', found.name) };
}

/** Global arguments placed before every subcommand (conmon passes them to `create` too). */
export function runtimeGlobalArgs(rt: Runtime): string[] {
  return ['--root', rt.root];
}

// crun says "No such file or directory" about the state folder, runc "container does not exist".
const MISSING_CONTAINER = /does not exist|No such file or directory/;

async function runtimeCommand(rt: Runtime, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(rt.path, [...runtimeGlobalArgs(rt), ...args], { encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    const kind = MISSING_CONTAINER.test(stderr) ? 'not-found' : 'internal';
    throw new BerthError(kind, `${rt.name} ${args[0]}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

export async function startContainer(rt: Runtime, id: string): Promise<void> {
  await runtimeCommand(rt, ['start', id]);
}

export async function killContainer(rt: Runtime, id: string, signal: string | number): Promise<void> {
  await runtimeCommand(rt, ['kill', id, String(signal)]);
}

/** Removes the runtime's state (and cgroup) of the container; a container already gone is fine. */
export async function deleteContainer(rt: Runtime, id: string, options: { force: boolean }): Promise<void> {
  try {
    await runtimeCommand(rt, ['delete', ...(options.force ? ['--force'] : []), id]);
  } catch (err) {
    if (!(err instanceof BerthError && err.kind === 'not-found')) throw err;
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
