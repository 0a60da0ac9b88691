import { Transform, type TransformCallback } from 'node:stream';
import { badDetachKey, detachKeyBytes, EscapeScanner } from '../common/detach-keys.js';
import { CliExit } from './cli-exit.js';
import type { CliContext } from './context.js';

export { DEFAULT_DETACH_KEYS } from '../common/detach-keys.js';

/** "ctrl-p,ctrl-q" → bytes; an unknown key ends the command as the docker CLI words it. */
export function parseDetachKeys(spec: string): Buffer {
  const bytes = detachKeyBytes(spec);
  if (!bytes) throw new CliExit(125, `invalid detach keys (${spec}): unknown character: '${badDetachKey(spec)}'`);
  return bytes;
}

/** Passes stdin through, except the escape sequence: on it, `onDetach` runs and nothing more is sent. */
export class DetachKeysFilter extends Transform {
  private readonly scanner: EscapeScanner;

  constructor(
    keys: Buffer,
    private readonly onDetach: () => void,
  ) {
    super();
    this.scanner = new EscapeScanner(keys);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.scanner.detached) return done();
    const { pass, detached } = this.scanner.scan(chunk);
    if (pass.length > 0) this.push(pass);
    if (detached) this.onDetach();
    done();
  }
}

/** The detach keys of an attach: --detach-keys, else config.json's detachKeys, else the daemon's default. */
export function chosenDetachKeys(ctx: CliContext, flag: string | undefined): string | undefined {
  return flag || ctx.config().detachKeys || undefined;
}
