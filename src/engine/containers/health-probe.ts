/**
 * One run of a container's health check (moby's cmdProbe): the check's command run in the
 * container through the runtime's exec, as the container's user, in its working directory, with
 * its environment, no TTY and no stdin; its output (stdout and stderr, at most 4096 bytes, then
 * "...") and exit code make the result. A probe that outlives its timeout is killed and counts as
 * failed (-1), as does one that could not be started.
 */
import { randomBytes } from 'node:crypto';
import type { ContainerRuntime, ExecProcess } from '../../runtime/container-runtime.js';
import { goDuration } from '../../common/go-duration.js';
import { resolveUser } from '../../runtime/user.js';
import type { HealthcheckResultWire } from '../../wire/containers.js';
import { processEnv } from './create-config.js';
import type { ContainerRecord } from './model.js';

const MAX_OUTPUT = 4096;

/** The command a check's Test runs, or undefined when there is no check (none, NONE, or an unknown kind). */
export function probeCommand(test: string[] | undefined): string[] | undefined {
  if (!test || test.length < 2) return undefined;
  if (test[0] === 'CMD') return test.slice(1);
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', ...test.slice(1)];
  return undefined;
}

/** What the probe is told of its life: events to publish and a way to be stopped early. */
export interface ProbeContext {
  runtime: ContainerRuntime;
  record: ContainerRecord;
  command: string[];
  timeoutNs: number;
  /** Aborted when the monitor stops (the container ended, paused or went): the probe is killed. */
  signal: AbortSignal;
  onExec(action: 'exec_create' | 'exec_start' | 'exec_die', execId: string, exitCode?: number): void;
}

/** Collects a probe's output up to the limit, reading (and dropping) the rest so the process never blocks. */
async function collectOutput(exec: ExecProcess): Promise<string> {
  const kept: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const { data } of exec.attach.output) {
    const room = MAX_OUTPUT - size;
    if (room > 0) kept.push(data.subarray(0, room));
    size += Math.min(room > 0 ? room : 0, data.length);
    if (data.length > room) truncated = true;
  }
  return Buffer.concat(kept).toString('utf8') + (truncated ? '...' : '');
}

export async function runProbe(context: ProbeContext): Promise<HealthcheckResultWire> {
  const { runtime, record, command, signal } = context;
  const start = new Date();
  const result = (exitCode: number, output: string) => ({ Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output });
  const execId = randomBytes(32).toString('hex');
  let exec: ExecProcess;
  try {
    context.onExec('exec_create', execId);
    // The container's own root, seen through its init process: its user names resolve there.
    const user = await resolveUser(`/proc/${record.state.Pid}/root`, record.config.User);
    exec = await runtime.exec(record.id, {
      execId,
      args: command,
      env: processEnv({ ...record.config, Tty: false }, record.config.Hostname),
      cwd: record.config.WorkingDir || '/',
      user,
      tty: false,
      stdin: false,
      privileged: false,
    });
  } catch (err) {
    return result(-1, err instanceof Error ? err.message : String(err));
  }
  context.onExec('exec_start', execId);
  const kill = () => {
    try {
      process.kill(exec.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, context.timeoutNs / 1e6);
  signal.addEventListener('abort', kill, { once: true });
  try {
    const [output, exitCode] = await Promise.all([collectOutput(exec), exec.exited]);
    context.onExec('exec_die', execId, exitCode);
    if (!timedOut) return result(exitCode, output);
    const limit = goDuration(context.timeoutNs);
    return result(-1, output ? `Health check exceeded timeout (${limit}): ${output}` : `Health check exceeded timeout (${limit})`);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', kill);
    exec.attach.close();
  }
}
