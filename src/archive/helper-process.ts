/**
 * The protocol of the confined helper processes (copy-helper.ts, and the native
 * ones of src/native/tools/, see tool.h): on failure a helper writes one JSON line
 * {message, code} to stderr and exits with status 1.
 */
export interface HelperFailure {
  message: string;
  code?: string;
  /** berth-untar --blob: the blob's digest and size, when it could still read it to its end. */
  blob?: { digest: `sha256:${string}`; size: number };
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
