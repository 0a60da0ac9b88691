import { readSync } from 'node:fs';
import { Readable } from 'node:stream';

/** A helper reads its stdin in pieces up to this big: every piece costs a trip through tar-stream and the unpacker. */
const HELPER_INPUT_BYTES = 1024 * 1024;

/**
 * The helper's stdin, read up to HELPER_INPUT_BYTES at a time into one reused buffer:
 * process.stdin reads 64 KiB per turn, and an fs stream allocates a fresh buffer of its full size
 * for every read however little it returns (a socket or pipe returns what the writer has put in
 * so far), then copies that into one of the right size. Reading blocks, which is fine in a process
 * that does nothing else (a child's stdin is a blocking descriptor).
 */
export function helperInput(): Readable {
  const scratch = Buffer.allocUnsafe(HELPER_INPUT_BYTES);
  return new Readable({
    highWaterMark: HELPER_INPUT_BYTES,
    read() {
      let bytes: number;
      try {
        bytes = readSync(0, scratch, 0, scratch.length, null);
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      // A copy: the scratch buffer is read into again while this chunk may still be queued.
      this.push(bytes === 0 ? null : Buffer.from(scratch.subarray(0, bytes)));
    },
  });
}

/**
 * The protocol of the confined helper processes (extract-helper.ts, copy-helper.ts, and the native tools of src/native/tools): on failure
 * a helper writes one JSON line {message, code} to stderr and exits with status 1.
 */
export interface HelperFailure {
  message: string;
  code?: string;
}

/** Runs a helper's `main`, reporting its failure in the protocol's form. */
export async function runHelper(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    const failure = err as NodeJS.ErrnoException;
    process.stderr.write(`${JSON.stringify({ message: failure.message ?? String(err), code: failure.code })}\n`);
    process.exitCode = 1;
  }
}

/** The failure a helper reported, or what is known when it died before it could. */
export function helperFailure(stderr: string, status: number | null, signal: string | null): HelperFailure {
  try {
    return JSON.parse(stderr) as HelperFailure;
  } catch {
    return { message: `helper exited with ${signal ?? `status ${status}`}: ${stderr.trim()}` };
  }
}
