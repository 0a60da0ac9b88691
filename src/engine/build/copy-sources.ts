/**
 * The sources of a COPY/ADD step inside a root (the build context, or the layer of an earlier
 * stage or image for `--from`), resolved as Docker's classic builder does (moby
 * daemon/builder/dockerfile copy.go calcCopyInfo): a leading `/` or `./` dropped, symbolic
 * links followed only inside the root (an absolute or `..` target cannot leave it), wildcards
 * matched with Go's filepath.Match against every path of the root, each source hashed
 * (file-hash.ts). The step's source hash is what its history line and cache key carry.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { errnoCode, invalidParameter, notFound, wrap } from '../../common/errors.js';
import { resolveInRoot } from '../../runtime/scoped-path.js';
import { pathHash, sourcesHash } from './file-hash.js';
import { containsWildcards, goMatch } from './go-match.js';

export const isRemoteSource = (source: string): boolean => source.startsWith('http://') || source.startsWith('https://');

export interface CopySource {
  /** Where the source is, relative to the root (links resolved inside it). */
  path: string;
  /** Its `file:`/`dir:` hash. */
  hash: string;
  /** The root it is in when not the step's (a file ADD downloaded: remote-source.ts). */
  root?: string;
  /** Downloaded by ADD from a URL: copied as it is, never unpacked. */
  downloaded?: boolean;
}

export interface ResolvedSources {
  sources: CopySource[];
  /** The step's source hash (`multi:` over several). */
  hash: string;
}

/** Every path under `root` (relative, '/'-separated), in the lexical walk order of Go's WalkDir. */
async function* walkRoot(root: string, dir = ''): AsyncGenerator<string> {
  const names = (await readdir(join(root, dir))).sort();
  for (const name of names) {
    const rel = dir === '' ? name : `${dir}/${name}`;
    yield rel;
    if ((await lstat(join(root, rel))).isDirectory()) yield* walkRoot(root, rel);
  }
}

async function resolveOne(root: string, source: string, wildcards: boolean, fromContext: boolean): Promise<CopySource[]> {
  let path = source.startsWith('/') ? source.slice(1) : source;
  if (path.startsWith('./')) path = path.slice(2);
  if (wildcards && containsWildcards(path)) {
    const found: CopySource[] = [];
    for await (const rel of walkRoot(root)) {
      let match = false;
      try {
        match = goMatch(path, rel);
      } catch {
        // As Docker: a malformed pattern matches nothing.
      }
      if (match) found.push(...(await resolveOne(root, rel, false, fromContext)));
    }
    return found;
  }
  const resolved = relative(root, await resolveInRoot(root, path)) || '.';
  try {
    await lstat(join(root, resolved));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    const clean = posix.normalize(`/${path}`).slice(1) || '.';
    const where = fromContext ? 'file not found in build context or excluded by .dockerignore: ' : '';
    throw notFound(`${where}stat ${clean}: file does not exist`);
  }
  return [{ path: resolved, hash: await pathHash(root, resolved) }];
}

/**
 * Resolves and hashes `sources` in `root`. `fromContext` words a missing source as Docker does
 * for the build context; `dest` is checked for the several-sources rule.
 */
export async function resolveCopySources(
  root: string,
  sources: readonly string[],
  options: {
    command: 'COPY' | 'ADD';
    dest: string;
    fromContext: boolean;
    extraHashes?: readonly string[];
    /** Fetches a URL source (ADD); absent, a URL is a path like any other. */
    download?: (url: string) => Promise<CopySource>;
  },
): Promise<ResolvedSources> {
  const resolved: CopySource[] = [];
  try {
    for (const source of sources) {
      if (options.download && isRemoteSource(source)) resolved.push(await options.download(source));
      else resolved.push(...(await resolveOne(root, source, true, options.fromContext)));
    }
  } catch (err) {
    throw wrap(err, `${options.command} failed`);
  }
  const hashes = [...resolved.map((source) => source.hash), ...(options.extraHashes ?? [])];
  if (hashes.length === 0) throw invalidParameter(`${options.command} failed: no source files were specified`);
  if (hashes.length > 1 && !options.dest.endsWith('/')) {
    throw invalidParameter(`When using ${options.command} with more than one source file, the destination must be a directory and end with a /`);
  }
  return { sources: resolved, hash: sourcesHash(hashes) };
}
