/**
 * The few kinds of failure the engine reports. Every layer throws these (wrapped with context);
 * only the API layer turns a kind into an HTTP status (src/api/errors.ts), so the mapping lives
 * in one place, as in moby's errdefs.
 */
export type ErrorKind =
  | 'not-found' // 404
  | 'already-exists' // 409
  | 'conflict' // 409
  | 'forbidden' // 403 (moby's errdefs.Forbidden: a network with endpoints, a predefined network)
  | 'invalid-parameter' // 400
  | 'unauthorized' // 401
  | 'not-modified' // 304
  | 'unavailable' // 503
  | 'not-implemented' // 501
  | 'internal'; // 500

export class BerthError extends Error {
  readonly kind: ErrorKind;
  /** Exit code a CLI should use when this error ends a `run` (127/126 for exec failures). */
  readonly exitCode?: number;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BerthError';
    this.kind = kind;
    this.exitCode = options?.exitCode;
  }
}

export const notFound = (message: string, cause?: unknown) => new BerthError('not-found', message, { cause });
export const conflict = (message: string, cause?: unknown) => new BerthError('conflict', message, { cause });
export const alreadyExists = (message: string, cause?: unknown) =>
  new BerthError('already-exists', message, { cause });
export const invalidParameter = (message: string, cause?: unknown) =>
  new BerthError('invalid-parameter', message, { cause });
export const forbidden = (message: string, cause?: unknown) => new BerthError('forbidden', message, { cause });
export const unauthorized = (message: string, cause?: unknown) => new BerthError('unauthorized', message, { cause });
export const unavailable = (message: string, cause?: unknown) => new BerthError('unavailable', message, { cause });
export const notModified = (message = 'not modified') => new BerthError('not-modified', message);

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof BerthError && err.kind === kind;
}

/** Adds context to an error while keeping its kind: "mounting layer abc: <original message>". */
export function wrap(err: unknown, context: string): BerthError {
  if (err instanceof BerthError) {
    return new BerthError(err.kind, `${context}: ${err.message}`, { cause: err, exitCode: err.exitCode });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new BerthError('internal', `${context}: ${message}`, { cause: err });
}

/** errno of a Node system error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
export const notImplemented = (message: string) => new BerthError('not-implemented', message);
