import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import type { BytePath } from '../common/byte-path.js';
import { BerthError, wrap } from '../common/errors.js';
import { nativeToolPath } from '../native/tools.js';
import type { Digest } from '../storage/digest.js';
import { helperFailure } from './helper-process.js';
import type { DiffEntry } from './pack-entries.js';

/**
 * An entry of a layer diff as berth-pack takes it: its path the name's bytes as they are on disk
 * (a name a container gave need not be UTF-8; see byte-path.ts), packed into the tar as they are.
 */
export type LayerDiffEntry = Omit<DiffEntry, 'path'> & { path: BytePath };

const PACKER = nativeToolPath('berth-pack');

/**
 * The entries as berth-pack reads them: kind, '1' for an opaque directory or '0', path, NUL. One
 * character a byte (latin1), as in a BytePath: the names' bytes go through unchanged.
 */
function encodeEntries(entries: LayerDiffEntry[]): Buffer {
  return Buffer.from(entries.map(({ kind, opaque, path }) => `${kind}${opaque ? 1 : 0}${path}\0`).join(''), 'latin1');
}

function startPacker(top: string, entries: LayerDiffEntry[], blob?: string) {
  const args = blob === undefined ? [top] : ['--blob', blob, top];
  // It needs no environment but the pid it checks its parent against (see pack.c).
  const packer = spawn(PACKER, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { BERTH_PARENT_PID: String(process.pid) } });
  const stderr: Buffer[] = [];
  packer.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  packer.stdin.on('error', () => {}); // a packer that failed early closes its stdin: the status tells
  packer.stdin.end(encodeEntries(entries));
  const failure = (status: number | null, signal: string | null) => {
    const { message, code } = helperFailure(Buffer.concat(stderr).toString('utf8'), status, signal);
    return new Error(`packing layer changes in ${top}: ${message}${code === undefined ? '' : ` (${code})`}`);
  };
  return { packer, failure };
}

/**
 * The OCI layer tar (uncompressed) of a layer's changes `entries`, whose files are read from the
 * directory `top` (see pack-entries.ts for what goes in). berth-pack (src/native/tools/pack.c),
 * chrooted into `top`, reads them, so no symlink in the layer can lead outside it. The tar streams
 * as it is made; a failure of the packer is an error of the stream, and destroying the stream
 * stops the packer.
 */
export function packDiff(top: string, entries: LayerDiffEntry[]): Readable {
  const { packer, failure } = startPacker(top, entries);
  const tar = new PassThrough();
  packer.stdout.pipe(tar, { end: false });
  packer.on('error', (err) => tar.destroy(err));
  packer.on('close', (status, signal) => {
    if (status === 0) tar.end();
    else tar.destroy(failure(status, signal));
  });
  tar.on('close', () => {
    if (packer.exitCode === null && packer.signalCode === null) packer.kill('SIGKILL');
  });
  return tar;
}

/**
 * packDiff into the new file `blob` (it must not exist), durable on disk when this resolves, with
 * the sha256 and size of its bytes as they were written: the daemon moves none of them. On failure
 * the file may be left half written; the caller removes it.
 */
export async function packDiffToFile(top: string, entries: LayerDiffEntry[], blob: string): Promise<{ digest: Digest; size: number }> {
  const { packer, failure } = startPacker(top, entries, blob);
  const stdout: Buffer[] = [];
  packer.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  let status: number | null;
  let signal: NodeJS.Signals | null;
  try {
    [status, signal] = (await once(packer, 'close')) as [number | null, NodeJS.Signals | null];
  } catch (err) {
    throw wrap(err, `packing layer changes in ${top}: starting berth-pack`);
  }
  if (status !== 0) throw failure(status, signal);
  const report = Buffer.concat(stdout).toString('utf8');
  const result = /^\{"digest":"(sha256:[0-9a-f]{64})","size":(\d+)\}\n$/.exec(report);
  if (!result) throw new BerthError('internal', `packing layer changes in ${top}: berth-pack reported ${JSON.stringify(report)}`);
  return { digest: result[1] as Digest, size: Number(result[2]) };
}
