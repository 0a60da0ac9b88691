import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { helperFailure } from './helper-process.js';
import type { DiffEntry } from './pack-entries.js';
import { helperEnv } from './helper-env.js';

export type { DiffEntry } from './pack-entries.js';

const HELPER = fileURLToPath(new URL('./pack-helper.js', import.meta.url));

/**
 * The OCI layer tar (uncompressed) of a layer's changes `entries`, whose files are read from the
 * directory `top` (see pack-entries.ts for what goes in). A helper process chrooted into `top`
 * reads them, so no symlink in the layer can lead outside it. The tar streams as it is made;
 * a failure of the helper is an error of the stream, and destroying the stream stops the helper.
 */
export function packDiff(top: string, entries: DiffEntry[]): Readable {
  const helper = spawn(process.execPath, [HELPER, top], { stdio: ['pipe', 'pipe', 'pipe'], env: helperEnv() });
  const tar = new PassThrough();
  const stderr: Buffer[] = [];
  helper.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  helper.stdin.on('error', () => {}); // a helper that failed early closes its stdin: the status tells
  helper.stdin.end(JSON.stringify(entries));
  helper.stdout.pipe(tar, { end: false });
  helper.on('error', (err) => tar.destroy(err));
  helper.on('close', (status, signal) => {
    if (status === 0) tar.end();
    else tar.destroy(new Error(`packing layer changes in ${top}: ${helperFailure(Buffer.concat(stderr).toString('utf8'), status, signal).message}`));
  });
  tar.on('close', () => {
    if (helper.exitCode === null && helper.signalCode === null) helper.kill('SIGKILL');
  });
  return tar;
}
