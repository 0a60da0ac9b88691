import { execFile } from 'node:child_process';
import type { TestDaemon } from './berthd.js';

export const DOCKER = '/usr/local/bin/docker';

/** Runs the real docker CLI against the test daemon; never rejects (the exit code is in the result). */
export function docker(daemon: TestDaemon, args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile(DOCKER, args, { env: daemon.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
    child.stdin!.end(input);
  });
}
