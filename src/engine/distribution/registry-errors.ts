/**
 * A registry's refusals as Docker words them: the registry's own error codes and messages
 * ("manifest unknown: manifest unknown", "unauthorized: authentication required"), or the status
 * when the body says nothing, prefixed with the request as Go's HTTP client does
 * (`Get "http://…/v2/": …`). URLs here never carry credentials.
 */
import { BerthError, type ErrorKind } from '../../common/errors.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  416: 'Requested Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * As moby: a missing manifest or blob is a 404; any other refusal a 500 (an API 401 would make the
 * docker CLI prompt for a login, which only /auth's answer should do).
 */
function kindOf(status: number): ErrorKind {
  if (status === 404) return 'not-found';
  if (status === 401 || status === 403) return 'internal';
  if (status >= 400 && status < 500) return 'invalid-parameter';
  return 'unavailable';
}

/** The registry's errors, distribution's errcode format: "code words: message". */
export function registryMessages(body: Buffer): string[] {
  try {
    const json = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    return (json.errors ?? [])
      .filter((e) => typeof e.code === 'string')
      .map((e) => `${String(e.code).toLowerCase().replace(/_/g, ' ')}: ${typeof e.message === 'string' ? e.message : ''}`);
  } catch {
    return [];
  }
}

/** Go's method spelling in url.Error: "Get", "Head", "Put". */
export function goMethod(method: string): string {
  return method.charAt(0) + method.slice(1).toLowerCase();
}

/** A registry's answer that was not the one asked for, with its HTTP status. */
export class RegistryStatusError extends BerthError {
  constructor(
    kind: ErrorKind,
    message: string,
    readonly status: number,
    /** Who refused: the registry, or the token server it sent us to. */
    readonly source: 'registry' | 'token' = 'registry',
  ) {
    super(kind, message);
  }
}

export function registryError(status: number, body: Buffer, method: string, url: string): RegistryStatusError {
  const messages = registryMessages(body);
  // A HEAD's refusal has no body to quote: the registry's words for it, as its GET would say.
  if (messages.length === 0 && status === 401) messages.push('unauthorized: authentication required');
  const detail = messages.length > 0 ? messages.join(', ') : `unexpected status from ${method} request to ${url}: ${status} ${STATUS_TEXT[status] ?? ''}`.trim();
  return new RegistryStatusError(kindOf(status), messages.length > 0 ? `${goMethod(method)} "${url}": ${detail}` : detail, status);
}

/** A failed connection or a timed-out request, in Go's words. */
export function transportError(err: unknown, method: string, url: string): BerthError {
  const message = err instanceof Error ? err.message : String(err);
  return new BerthError('unavailable', `${goMethod(method)} "${url}": ${message}`, { cause: err });
}
