import { invalidParameter } from '../../common/errors.js';

/**
 * Image references, parsed and normalised as Docker's distribution/reference does:
 * `busybox` → docker.io/library/busybox:latest, `localhost:5000/a/b@sha256:…`, and so on.
 */
export interface Reference {
  /** Registry host, with port if any: "docker.io", "localhost:5000". */
  domain: string;
  /** Repository path inside the registry: "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const MAX_NAME_LENGTH = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const PORT = /^[0-9]+$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

function invalid(detail?: string) {
  return invalidParameter(detail ? `invalid reference format: ${detail}` : 'invalid reference format');
}

function isDomain(candidate: string): boolean {
  const hostPort = candidate.match(/^(\[[0-9a-fA-F:]+\]|[^:]+)(?::(.*))?$/);
  if (!hostPort) return false;
  const [, host, port] = hostPort;
  if (port !== undefined && !PORT.test(port)) return false;
  if (host.startsWith('[')) return true;
  return host.split('.').every((part) => DOMAIN_COMPONENT.test(part));
}

/** Parses any reference a user may type and returns it fully qualified (no default tag added). */
export function parseReference(input: string): Reference {
  if (input.length === 0) throw invalid();
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid();
    if (digest.startsWith('sha256:') && !SHA256_DIGEST.test(digest)) throw invalid();
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid();
  }
  if (rest.length === 0 || rest.length > MAX_NAME_LENGTH) throw invalid();

  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if ((first.includes('.') || first.includes(':') || first === 'localhost') && isDomain(first)) {
      domain = first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first;
      path = rest.slice(slash + 1);
    } else if (/[A-Z]/.test(first) && !first.includes('.') && !first.includes(':') && first !== 'localhost') {
      throw invalid(`repository name (${rest}) must be lowercase`);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      if (component.toLowerCase() !== component && PATH_COMPONENT.test(component.toLowerCase())) {
        throw invalid(`repository name (${path}) must be lowercase`);
      }
      throw invalid();
    }
  }
  return { domain, path, tag, digest };
}

/** Like parseReference, but adds the `latest` tag when neither a tag nor a digest was given. */
export function parseNormalisedNamed(input: string): Reference {
  // A name that reads as an image id would be ambiguous with that id.
  if (/^[a-f0-9]{64}$/.test(input)) {
    throw invalidParameter(`invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  const ref = parseReference(input);
  if (ref.tag === undefined && ref.digest === undefined) ref.tag = 'latest';
  return ref;
}

/** "docker.io/library/busybox" */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The short form Docker prints: "busybox", "foo/bar", "localhost:5000/x". */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith(OFFICIAL_PREFIX) ? ref.path.slice(OFFICIAL_PREFIX.length) : ref.path;
}

/** The familiar string with tag and digest: "busybox:latest". */
export function familiarString(ref: Reference): string {
  let out = familiarRepository(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** The canonical string used as a key in the tag store: "docker.io/library/busybox:latest". */
export function canonicalString(ref: Reference): string {
  let out = repositoryName(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}
