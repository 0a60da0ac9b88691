import { invalidParameter } from '../../common/errors.js';
import { detachKeyBytes } from '../../common/detach-keys.js';
import type { Query } from '../http.js';

/** POST /containers/{id}/attach's query, as moby reads it. */
export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Replay the container's log before streaming. */
  logs: boolean;
  /** Stream live output (and take stdin) after the replay. */
  stream: boolean;
  /** The escape sequence watched for on a TTY attach's stdin. */
  detachKeys: Buffer;
}

/** `detachKeys` (else the daemon's default); a bad one is moby's 400, before anything is attached. */
export function decodeAttachOptions(query: Query, defaultDetachKeys: string): AttachOptions {
  const given = query.string('detachKeys');
  const spec = given || defaultDetachKeys;
  const detachKeys = detachKeyBytes(spec);
  if (!detachKeys) throw invalidParameter(`Invalid detach keys (${spec}) provided`);
  return {
    stdin: query.bool('stdin'),
    stdout: query.bool('stdout'),
    stderr: query.bool('stderr'),
    logs: query.bool('logs'),
    stream: query.bool('stream'),
    detachKeys,
  };
}
