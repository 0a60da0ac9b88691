/**
 * Launching a container under conmon, the per-container monitor that owns its stdio, log and exit
 * status, so that a container outlives berthd (see ../shared/notes/conmon.md §1).
 *
 * conmon runs `RUNTIME create`; berthd then calls `startContainer` (runtime.ts). The rest of
 * conmon's interface lives beside this file: the pipes (conmon-pipes.ts), the attach socket, the
 * ctl fifo (conmon-ctl.ts), the exit files and the exec mode (conmon-exec.ts); ConmonRuntime
 * (conmon-runtime.ts) puts them together.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, invalidParameter } from '../common/errors.js';
import { conmonEnv, pipeClosed, readAll, spawnConmon, syncMessages, type ConmonChild, type SyncMessage } from './conmon-pipes.js';
import { createFailure } from './create-error.js';
import type { OciSpec } from './oci-spec.js';
import { deleteCommand, deleteContainer, runtimeGlobalArgs, type Runtime } from './runtime.js';

export interface LaunchOptions {
  conmonPath: string;
  id: string;
  /** Shown in conmon's logs. */
  name: string;
  runtime: Runtime;
  /** Holds config.json; conmon puts its pidfile, ctl fifo and attach socket here. */
  bundleDir: string;
  /** The k8s-file log (conmon splits the log option at ':', so the path may not contain one); absent: none. */
  logPath?: string;
  tty: boolean;
  /** Keep stdin open for attach clients (docker's -i). */
  stdin: boolean;
  /** Shared by all containers; conmon writes the exit status to EXITDIR/ID. */
  exitDir: string;
  /** This container's own folder; conmon writes `exit` and `oom` there. */
  persistDir: string;
  /** Removes the cgroups a failed create left. */
  removeCgroups: (cgroupsPath: string) => Promise<void>;
  /** conmon runs the runtime's delete once the exit is recorded (see crun-delete.ts for when). */
  exitCommand: boolean;
}

/** Files conmon leaves in the bundle; removed after a failed create. */
const CONMON_BUNDLE_FILES = ['attach', 'ctl', 'winsz', 'pidfile', 'conmon.pid', 'oom'];

function conmonArgs(opts: LaunchOptions): string[] {
  const { id, bundleDir } = opts;
  const exit = deleteCommand(opts.runtime, id);
  return [
    '--api-version', '1',
    '-c', id,
    '-u', id,
    '-n', opts.name,
    '-r', opts.runtime.path,
    '-b', bundleDir,
    '-p', join(bundleDir, 'pidfile'),
    '--conmon-pidfile', join(bundleDir, 'conmon.pid'),
    '--exit-dir', opts.exitDir,
    '--persist-dir', opts.persistDir,
    '--full-attach',
    // No --log-size-max: conmon would empty the file, losing lines; berthd rotates instead.
    '-l', opts.logPath === undefined ? 'none' : `k8s-file:${opts.logPath}`,
    // conmon fsyncs the log before it writes the exit file, a journal commit (1–7 ms here) on the
    // path of every exit, `run --rm`'s answer included; dockerd's json-file log is never synced.
    '--no-sync-log',
    // After daemonizing conmon's stderr is /dev/null: its errors reach only syslog.
    '--log-level', 'warning', '--syslog',
    // With a tty, conmon's -t carries stdin too; -i is for pipes.
    ...(opts.tty ? ['-t'] : opts.stdin ? ['-i'] : []),
    ...runtimeGlobalArgs(opts.runtime).flatMap((arg) => ['--runtime-arg', arg]),
    // Run once the exit is recorded (conmon waits for it before it leaves): the runtime's state
    // and cgroups go while berthd handles the exit, instead of after it (crun-delete.ts).
    ...(opts.exitCommand ? ['--exit-command', exit.path, ...exit.args.flatMap((arg) => ['--exit-command-arg', arg])] : []),
  ]; // prettier-ignore
}

/** What a failed create can leave: conmon's files, the runtime's state, the container's cgroup. */
async function cleanUpFailedCreate(opts: LaunchOptions, spec: OciSpec | undefined): Promise<void> {
  await deleteContainer(opts.runtime, opts.id, { force: true }).catch(() => {});
  await Promise.all([
    ...CONMON_BUNDLE_FILES.map((name) => rm(join(opts.bundleDir, name), { force: true })),
    rm(opts.persistDir, { recursive: true, force: true }),
    rm(join(opts.exitDir, opts.id), { force: true }),
    spec ? opts.removeCgroups(spec.linux.cgroupsPath) : undefined,
  ]);
}

async function readBundleSpec(bundleDir: string): Promise<OciSpec | undefined> {
  return readFile(join(bundleDir, 'config.json'), 'utf8')
    .then((text) => JSON.parse(text) as OciSpec)
    .catch(() => undefined);
}

/**
 * Has conmon create the container described by BUNDLE/config.json (created, not started: call
 * startContainer next, after connecting to the attach socket if output is wanted). Resolves with
 * the container's pid. A create that fails is cleaned up and thrown as Docker words it, with the
 * exit status `docker run` would have (127 command not found, 126 not executable, 125 other).
 */
export async function launchContainer(opts: LaunchOptions): Promise<{ pid: number }> {
  if (opts.logPath?.includes(':')) throw invalidParameter(`log path may not contain ':': ${opts.logPath}`);
  // conmon dies without an exit file if the persist dir is missing.
  await mkdir(opts.persistDir, { recursive: true });
  let child: ConmonChild | undefined;
  let sync: SyncMessage | undefined;
  try {
    child = spawnConmon(opts.conmonPath, conmonArgs(opts), opts.bundleDir, conmonEnv(), 3);
    const [stderrPipe, syncPipe, startPipe] = child.pipes;
    // Only the first conmon ever holds stderr (the daemonized one points it at /dev/null).
    const stderr = readAll(stderrPipe);
    startPipe.end(Buffer.of(0)); // conmon waits for this byte before it forks
    [sync] = await Promise.all([syncMessages(syncPipe).next(), child.exited]);
    if (!sync) {
      const complaint = (await stderr).trim();
      throw new BerthError('internal', `conmon exited before the container was created: ${complaint || 'no error output'}`);
    }
  } catch (err) {
    child?.closePipes();
    await cleanUpFailedCreate(opts, await readBundleSpec(opts.bundleDir));
    throw err;
  }
  if (sync.data > 0) {
    child.closePipes();
    return { pid: sync.data };
  }
  // conmon exits after reporting the failure; wait for that, so no conmon outlives the error.
  await pipeClosed(child.pipes[1]);
  child.closePipes();
  const spec = await readBundleSpec(opts.bundleDir);
  await cleanUpFailedCreate(opts, spec);
  throw createFailure(sync.message ?? 'unknown error', spec?.process.args[0] ?? '');
}
