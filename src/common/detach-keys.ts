/**
 * The escape sequence that detaches an attached client from a container (Docker's detach keys,
 * Ctrl-P Ctrl-Q by default). The daemon watches a TTY attach's stdin for it (as dockerd does) and
 * the CLI watches its terminal (as the docker CLI does), so both use this one scanner.
 */

/** Docker's default escape sequence, Ctrl-P Ctrl-Q. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/**
 * "ctrl-p,ctrl-q" or "ctrl-a,x" → the bytes, with Docker's rules (ctrl-[a-z@[\\]^_?], or one
 * character); undefined when a key is not one of those (each side words its own error).
 */
export function detachKeyBytes(spec: string): Buffer | undefined {
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    const ctrl = key.match(/^ctrl-(.)$/i);
    if (ctrl) {
      const code = ctrl[1].toUpperCase().charCodeAt(0);
      if (code >= 0x40 && code <= 0x5f) bytes.push(code - 0x40);
      else if (ctrl[1] === '?') bytes.push(0x7f);
      else return undefined;
    } else if (key.length === 1) {
      bytes.push(key.charCodeAt(0));
    } else {
      return undefined;
    }
  }
  return Buffer.from(bytes);
}

/** The first key of a spec that detachKeyBytes refuses, for error messages. */
export function badDetachKey(spec: string): string {
  return spec.split(',').find((key) => detachKeyBytes(key) === undefined) ?? spec;
}

/**
 * Scans input for the sequence. Bytes that might begin it are held back; a partial match that
 * breaks is passed on as typed and the match restarts at the byte that broke it (so Ctrl-P
 * Ctrl-P Ctrl-Q detaches).
 */
export class EscapeScanner {
  private matched = 0;
  private done = false;

  constructor(private readonly keys: Buffer) {}

  get detached(): boolean {
    return this.done;
  }

  /** What to pass on from `chunk`, and whether the sequence is now complete (nothing after it counts). */
  scan(chunk: Buffer): { pass: Buffer; detached: boolean } {
    if (this.done) return { pass: Buffer.alloc(0), detached: true };
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.done = true;
          return { pass: Buffer.from(out), detached: true };
        }
        continue;
      }
      if (this.matched > 0) {
        out.push(...this.keys.subarray(0, this.matched));
        this.matched = byte === this.keys[0] ? 1 : 0;
        if (this.matched === 1) continue;
      }
      out.push(byte);
    }
    return { pass: Buffer.from(out), detached: false };
  }
}
