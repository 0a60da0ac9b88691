import { Transform, type TransformCallback } from 'node:stream';
import { CliExit } from './cli-exit.js';

/** Docker's default escape sequence, Ctrl-P Ctrl-Q. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q" or "ctrl-a,x" → the bytes, with docker's rules (ctrl-[a-z@[\\]^_], or one character). */
export function parseDetachKeys(spec: string): Buffer {
  const bytes = spec.split(',').map((key) => {
    const ctrl = key.match(/^ctrl-(.)$/i);
    if (ctrl) {
      const code = ctrl[1].toUpperCase().charCodeAt(0);
      if (code >= 0x40 && code <= 0x5f) return code - 0x40;
      if (ctrl[1] === '?') return 0x7f;
    } else if (key.length === 1) {
      return key.charCodeAt(0);
    }
    throw new CliExit(125, `invalid detach keys (${spec}): unknown character: '${key}'`);
  });
  return Buffer.from(bytes);
}

/**
 * Passes stdin through, except the escape sequence: on it, `onDetach` runs and nothing more is
 * sent. A partial match that breaks is sent on as typed, and the match restarts at the byte
 * that broke it (so Ctrl-P Ctrl-P Ctrl-Q detaches, where the docker CLI would not).
 */
export class DetachKeysFilter extends Transform {
  private matched = 0;
  private detached = false;

  constructor(
    private readonly keys: Buffer,
    private readonly onDetach: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.detached) return done();
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.detached = true;
          if (out.length > 0) this.push(Buffer.from(out));
          this.onDetach();
          return done();
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
    if (out.length > 0) this.push(Buffer.from(out));
    done();
  }
}
