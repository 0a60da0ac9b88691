import { BerthError, type ErrorKind } from '../common/errors.js';

/** The kinds a daemon's HTTP status stands for: the inverse of the API layer's mapping. */
const KIND_BY_STATUS: Record<number, ErrorKind> = {
  304: 'not-modified',
  400: 'invalid-parameter',
  401: 'unauthorized',
  404: 'not-found',
  409: 'conflict',
  501: 'not-implemented',
  503: 'unavailable',
};

/** An error answer from the daemon: its HTTP status and its `{"message": ...}`, verbatim. */
export class DaemonError extends BerthError {
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(KIND_BY_STATUS[statusCode] ?? 'internal', message);
    this.name = 'DaemonError';
    this.statusCode = statusCode;
  }

  /** Builds the error from a response body, which is JSON from a Docker daemon but may be text. */
  static fromBody(statusCode: number, body: string): DaemonError {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return new DaemonError(statusCode, parsed.message);
    } catch {
      // Not JSON: a proxy or a non-Docker server answered; its text is the best message there is.
    }
    return new DaemonError(statusCode, body.trim() || `HTTP status ${statusCode}`);
  }
}

/** An `{"error": ...}` line inside a 200 progress stream (pull, import): the operation failed midway. */
export class ProgressStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProgressStreamError';
  }
}
