/**
 * What `docker exec` asks for (POST /containers/{id}/exec), and the process it makes in a running
 * container: the container's own environment, user and working dir, each overridden by the
 * exec's, as moby's ContainerExecStart builds the process spec.
 */
import type { ExecRequest } from '../../runtime/container-runtime.js';
import { resolveUser } from '../../runtime/user.js';
import { processEnv } from './create-config.js';
import type { ContainerRecord } from './model.js';

export interface ExecOptions {
  cmd: string[];
  /** KEY=VALUE entries over the container's; a bare KEY removes the container's KEY. */
  env: string[];
  /** '' runs as the container's user (Config.User). */
  user: string;
  /** '' runs in the container's working dir. */
  workingDir: string;
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  privileged: boolean;
  detachKeys: string;
  consoleSize?: { height: number; width: number };
}

const envKey = (entry: string) => entry.split('=', 1)[0];

/** moby's opts.ReplaceOrAppendEnvValues: an override replaces in place, a bare key unsets. */
export function overrideEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const env = [...base];
  for (const entry of overrides) {
    const key = envKey(entry);
    const at = env.findIndex((e) => envKey(e) === key);
    if (!entry.includes('=')) {
      if (at !== -1) env.splice(at, 1);
    } else if (at === -1) env.push(entry);
    else env[at] = entry;
  }
  return env;
}

/**
 * The runtime's request for one start of an exec. The user is resolved against the container's
 * root as its init process sees it (/proc/PID/root: the mounts of the running container included).
 */
export async function execRequest(record: ContainerRecord, execId: string, options: ExecOptions): Promise<ExecRequest> {
  const { config } = record;
  const base = processEnv({ ...config, Tty: options.tty }, config.Hostname);
  const user = await resolveUser(`/proc/${record.state.Pid}/root`, options.user || config.User);
  return {
    execId,
    args: options.cmd,
    env: overrideEnv(base, options.env),
    cwd: options.workingDir || config.WorkingDir || '/',
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    tty: options.tty,
    stdin: options.attachStdin,
    privileged: options.privileged,
    consoleSize: options.tty ? options.consoleSize : undefined,
  };
}
