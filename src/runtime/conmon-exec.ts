/**
 * A process run in a running container by conmon's exec mode (notes §6, as Podman's
 * oci_conmon_exec_common.go): conmon runs `RUNTIME exec --process process.json --detach CTR`
 * under its own monitor, serves the process's stdio on an attach socket in the exec's folder,
 * and reports the pid and then the exit status on the sync pipe.
 *
 * The handshake: start byte 1 → the first conmon forks the monitor and leaves; the attach pipe
 * says `{"data": 0}` once the socket listens; connect; start byte 2 → the runtime runs the
 * process; the sync pipe says `{"data": PID}` (or -1 and the runtime's complaint), and at the end
 * `{"data": STATUS}`.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../common/atomic-file.js';
import { BerthError } from '../common/errors.js';
import { connectAttach, type AttachSocket } from './attach-socket.js';
import { conmonEnv, readAll, spawnConmon, syncMessages } from './conmon-pipes.js';
import { execFailure } from './create-error.js';
import { readExitCode } from './exit-files.js';
import type { OciSpec } from './oci-spec.js';
import { runtimeGlobalArgs, type Runtime } from './runtime.js';

export interface ExecLaunch {
  conmonPath: string;
  runtime: Runtime;
  containerId: string;
  execId: string;
  /** For conmon's logs. */
  name: string;
  /** The exec's own folder; removed when the process has ended. */
  dir: string;
  process: OciSpec['process'];
  tty: boolean;
  stdin: boolean;
}

export interface LaunchedExec {
  pid: number;
  socket: AttachSocket;
  /** The exit status, once the process ended and its folder is gone. */
  exited: Promise<number>;
}

function execArgs(opts: ExecLaunch): string[] {
  const { dir } = opts;
  return [
    '--api-version', '1',
    '-c', opts.containerId,
    '-u', opts.execId,
    '-n', opts.name,
    '-r', opts.runtime.path,
    '-b', dir,
    '-p', join(dir, 'exec_pid'),
    '--exit-dir', join(dir, 'exit'),
    '--persist-dir', join(dir, 'persist'),
    '--full-attach',
    '-l', 'none',
    '--log-level', 'warning', '--syslog',
    ...(opts.tty ? ['-t'] : opts.stdin ? ['-i'] : []),
    '-e', '--exec-attach',
    '--exec-process-spec', join(dir, 'process.json'),
    ...runtimeGlobalArgs(opts.runtime).flatMap((arg) => ['--runtime-arg', arg]),
  ]; // prettier-ignore
}

/** Starts the exec; resolves once the process runs, with its stdio connected. */
export async function launchExec(opts: ExecLaunch): Promise<LaunchedExec> {
  const { dir } = opts;
  await mkdir(join(dir, 'exit'), { recursive: true });
  await mkdir(join(dir, 'persist'), { recursive: true });
  await writeJsonAtomic(join(dir, 'process.json'), opts.process, { durable: false });
  const child = await Promise.resolve()
    .then(() => spawnConmon(opts.conmonPath, execArgs(opts), dir, conmonEnv({ _OCI_ATTACHPIPE: '5' }), 4))
    .catch(async (err: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw err;
    });
  const [stderrPipe, syncPipe, startPipe, attachPipe] = child.pipes;
  const { closePipes } = child;
  const stderr = readAll(stderrPipe);
  const sync = syncMessages(syncPipe);
  let socket: AttachSocket | undefined;
  try {
    startPipe.write(Buffer.of(0));
    const [ready] = await Promise.all([syncMessages(attachPipe).next(), child.exited]);
    if (!ready || ready.data < 0) {
      const complaint = (await stderr).trim();
      throw new BerthError('internal', `conmon could not set up the exec: ${ready?.message ?? (complaint || 'no error output')}`);
    }
    socket = await connectAttach(dir);
    startPipe.end(Buffer.of(0));
    const started = await sync.next();
    if (!started || started.data <= 0) {
      throw execFailure(started?.message ?? 'conmon exited before the process started', opts.process.args[0] ?? '');
    }
    const exited = sync
      .next()
      .then(async (end) => end?.data ?? (await readExitCode(join(dir, 'exit'), opts.containerId)) ?? -1)
      .finally(async () => {
        closePipes();
        await rm(dir, { recursive: true, force: true });
      });
    return { pid: started.data, socket, exited };
  } catch (err) {
    socket?.close();
    closePipes();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
