import { invalidParameter } from '../common/errors.js';

export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';

function compare(a: string, b: string): number {
  const [amaj, amin] = a.split('.').map(Number);
  const [bmaj, bmin] = b.split('.').map(Number);
  return amaj - bmaj || amin - bmin;
}

/** Splits "/v1.41/containers/json" into the version and the route path; checks the range. */
export function splitVersion(pathname: string): { version: string; path: string } {
  const match = pathname.match(/^\/v(\d+\.\d+)(\/.*)$/);
  if (!match) return { version: API_VERSION, path: pathname };
  const [, version, path] = match;
  if (compare(version, API_VERSION) > 0) {
    throw invalidParameter(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  if (compare(version, MIN_API_VERSION) < 0) {
    throw invalidParameter(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  return { version, path };
}

export function versionAtLeast(version: string, wanted: string): boolean {
  return compare(version, wanted) >= 0;
}
