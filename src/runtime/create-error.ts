/**
 * Turns the runtime's complaint about a failed `create` or `exec` (relayed by conmon on the sync pipe) into
 * the error dockerd would give. The docker CLI picks `run`'s exit status from substrings of the
 * message ("executable file not found" or "no such file or directory" → 127, "permission denied"
 * → 126), so exec failures are reworded the way runc words them, whichever runtime said it.
 */
import { BerthError } from '../common/errors.js';

const CREATE_PREFIX = 'failed to create task for container: OCI runtime create failed';
const EXEC_PREFIX = 'OCI runtime exec failed: exec failed: unable to start container process';

// Podman's classification (libpod/oci_util.go), permission first: crun's "open executable:
// Permission denied" must not count as not-found.
const DENIED = /permission denied|operation not permitted/i;
const NOT_FOUND = /executable file not found in|no such file or directory|open executable/i;
// Only these messages are about the command itself (not, say, a bind mount's missing source).
const ABOUT_EXECUTABLE = /executable|exec:/i;

/** runc logs `time=… level=error msg="…"`; the quoted msg is what matters. crun prints it bare. */
export function runtimeDetail(message: string): string {
  const quoted = /msg="((?:[^"\\]|\\.)*)"/.exec(message);
  if (quoted) return JSON.parse(`"${quoted[1]}"`) as string;
  return message.trim();
}

function notFoundWording(command: string): string {
  return command.includes('/')
    ? `exec: "${command}": stat ${command}: no such file or directory`
    : `exec: "${command}": executable file not found in $PATH`;
}

/** The error for a failed create of a container whose process is `command`. */
export function createFailure(runtimeMessage: string, command: string): BerthError {
  return runtimeFailure(CREATE_PREFIX, runtimeMessage, command);
}

/** The error for an exec whose `command` could not be started (the same exit statuses). */
export function execFailure(runtimeMessage: string, command: string): BerthError {
  return runtimeFailure(EXEC_PREFIX, runtimeMessage, command);
}

function runtimeFailure(prefix: string, runtimeMessage: string, command: string): BerthError {
  const detail = runtimeDetail(runtimeMessage);
  const aboutExecutable = ABOUT_EXECUTABLE.test(detail);
  if (DENIED.test(detail)) {
    const wording = aboutExecutable ? `exec: "${command}": permission denied` : detail;
    return new BerthError('invalid-parameter', `${prefix}: ${wording}`, { exitCode: 126 });
  }
  if (NOT_FOUND.test(detail)) {
    const wording = aboutExecutable ? notFoundWording(command) : detail;
    return new BerthError('invalid-parameter', `${prefix}: ${wording}`, { exitCode: 127 });
  }
  return new BerthError('invalid-parameter', `${prefix}: ${detail}`, { exitCode: 125 });
}
