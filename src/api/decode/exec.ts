/**
 * The bodies of POST /containers/{id}/exec (Go's container.ExecOptions) and POST /exec/{id}/start
 * (container.ExecStartOptions), decoded with dockerd's 400s.
 */
import type { ExecOptions } from '../../engine/containers/exec-config.js';
import { consoleSize } from './container-create.js';
import { bool, FieldPath, string, stringArray, type JsonObject } from './json-fields.js';

const CREATE = new FieldPath('ExecOptions');
const START = new FieldPath('ExecStartOptions');

function size(body: JsonObject, at: FieldPath): ExecOptions['consoleSize'] {
  const pair = consoleSize(body, at);
  return pair && pair[0] > 0 && pair[1] > 0 ? { height: pair[0], width: pair[1] } : undefined;
}

export function decodeExecCreate(body: JsonObject): ExecOptions {
  const at = CREATE;
  return {
    cmd: stringArray(body, 'Cmd', at) ?? [],
    env: stringArray(body, 'Env', at) ?? [],
    user: string(body, 'User', at) ?? '',
    workingDir: string(body, 'WorkingDir', at) ?? '',
    tty: bool(body, 'Tty', at) ?? false,
    attachStdin: bool(body, 'AttachStdin', at) ?? false,
    attachStdout: bool(body, 'AttachStdout', at) ?? false,
    attachStderr: bool(body, 'AttachStderr', at) ?? false,
    privileged: bool(body, 'Privileged', at) ?? false,
    detachKeys: string(body, 'DetachKeys', at) ?? '',
    consoleSize: size(body, at),
  };
}

export interface ExecStart {
  detach: boolean;
  consoleSize: ExecOptions['consoleSize'];
}

export function decodeExecStart(body: JsonObject): ExecStart {
  return { detach: bool(body, 'Detach', START) ?? false, consoleSize: size(body, START) };
}
