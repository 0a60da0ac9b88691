import { invalidParameter } from '../common/errors.js';

/** Go's url.EscapeError text for the first bad %-escape in `text`. */
function badEscape(text: string): string | undefined {
  const match = text.match(/%(?![0-9a-fA-F]{2})[^]{0,2}/);
  return match?.[0];
}

/**
 * The request target as dockerd's Go HTTP server reads it: an absolute path (or an absolute URL)
 * with a query; anything else, or a bad %-escape in the path, is a 400 before any routing.
 */
export function parseRequestTarget(target: string | undefined): { pathname: string; searchParams: URLSearchParams } {
  let url: URL;
  try {
    if (target === undefined || !/^(\/|https?:\/\/)/i.test(target) || target.startsWith('//')) throw new TypeError();
    url = new URL(target, 'http://localhost');
  } catch {
    throw invalidParameter(`parse ${JSON.stringify(target ?? '')}: invalid URI for request`);
  }
  const escape = badEscape(url.pathname);
  if (escape !== undefined) throw invalidParameter(`invalid URL escape ${JSON.stringify(escape)}`);
  try {
    decodeURIComponent(url.pathname);
  } catch {
    throw invalidParameter('invalid URL escape in the request path');
  }
  return { pathname: url.pathname, searchParams: url.searchParams };
}
