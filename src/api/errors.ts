import { BerthError, type ErrorKind } from '../common/errors.js';

/** The one place where an error kind becomes an HTTP status (moby's errdefs → httpstatus). */
const STATUS: Record<ErrorKind, number> = {
  'not-found': 404,
  'already-exists': 409,
  conflict: 409,
  forbidden: 403,
  'invalid-parameter': 400,
  unauthorized: 401,
  'not-modified': 304,
  unavailable: 503,
  'not-implemented': 501,
  internal: 500,
};

export function statusOf(err: unknown): number {
  return err instanceof BerthError ? STATUS[err.kind] : 500;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
