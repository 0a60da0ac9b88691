/**
 * The build context of `POST /build`: the request body (a tar, plain or gzip) unpacked into a
 * fresh build root by the confined extractor of src/archive (a helper chrooted into the root:
 * no entry — absolute, `..`, through a symbolic link — lands outside it), then the Dockerfile
 * found and parsed as Docker's daemon does it (moby daemon/builder/remotecontext detect.go):
 * `dockerfile=` names a path inside the context (links resolved inside it), `Dockerfile`
 * falls back to `dockerfile`, an empty one is refused, and the Dockerfile and .dockerignore are
 * taken out of the context when .dockerignore excludes them.
 *
 * The client decides what is in the tar: it applies .dockerignore, and puts a Dockerfile read
 * from stdin or from outside the context into the tar under a name of its own (the docker CLI
 * uses `.dockerfile.<random>`), passed as `dockerfile=` — see dockerfileEntryName.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { extractArchive } from '../../archive/index.js';
import { goClean } from '../../archive/go-paths.js';
import { BerthError, errnoCode, invalidParameter, wrap } from '../../common/errors.js';
import { resolveInRoot } from '../../runtime/scoped-path.js';
import { parseDockerfile, type ParsedDockerfile } from './dockerfile-parser.js';
import { PatternMatcher, readDockerignore } from './dockerignore.js';

export const DEFAULT_DOCKERFILE = 'Dockerfile';

/** Build roots are made under the caller's folder with this prefix; one left by a crash is swept. */
const ROOT_PREFIX = 'context-';

// Docker reads Dockerfiles of any size into memory; a bound keeps one request from taking it all.
const MAX_DOCKERFILE_BYTES = 16 * 1024 * 1024;

export interface BuildContext {
  /** The unpacked context: the root COPY and ADD read from. */
  root: string;
  /** The Dockerfile's name as given (relative to the context). */
  dockerfileName: string;
  dockerfile: ParsedDockerfile;
  /** Removes the build root; the owner of the build calls it whatever happened. */
  dispose(): Promise<void>;
}

export interface ContextOptions {
  /** Where build roots are made (a folder of the data root the daemon owns). */
  dir: string;
  /** The `dockerfile` query parameter; `Dockerfile` when empty. */
  dockerfile?: string;
}

/** The name a client gives a Dockerfile it adds to the context (stdin, or outside the context). */
export function dockerfileEntryName(): string {
  return `.dockerfile.${randomBytes(10).toString('hex')}`;
}

/** Unpacks `tar` into a new build root and reads its Dockerfile. The root is removed on failure. */
export async function readBuildContext(tar: Readable, options: ContextOptions): Promise<BuildContext> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const root = await mkdtemp(join(options.dir, ROOT_PREFIX));
  const dispose = () => rm(root, { recursive: true, force: true });
  try {
    await extractArchive({ path: root }, '/', tar, { noOverwriteDirNonDir: false }).catch((err: unknown) => {
      throw wrap(err, 'unpacking the build context');
    });
    const requested = options.dockerfile || DEFAULT_DOCKERFILE;
    const { name, text } = await readDockerfile(root, requested);
    const dockerfile = parseNamed(name, text);
    await removeIgnored(root, name);
    return { root, dockerfileName: name, dockerfile, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** A scratch directory beside a build root (ADD's downloads), swept with the roots after a crash. */
export function scratchDirBeside(root: string): Promise<string> {
  return mkdtemp(join(dirname(root), ROOT_PREFIX));
}

/** Removes the build roots a killed daemon left under `dir` (called at daemon start). */
export async function sweepBuildRoots(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return [] as string[];
    throw err;
  });
  const swept = names.filter((name) => name.startsWith(ROOT_PREFIX));
  for (const name of swept) await rm(join(dir, name), { recursive: true, force: true });
  return swept;
}

async function readDockerfile(root: string, requested: string): Promise<{ name: string; text: string }> {
  let name = requested;
  let text = await readInRoot(root, name);
  if (text === undefined && name === DEFAULT_DOCKERFILE) {
    name = name.toLowerCase();
    text = await readInRoot(root, name);
  }
  if (text === undefined) throw invalidParameter(`Cannot locate specified Dockerfile: ${requested}`);
  if (text.length === 0) throw invalidParameter(`the Dockerfile (${name}) cannot be empty`);
  return { name, text };
}

/** The text of the regular file `name` of the context, links resolved inside it; undefined if it is absent. */
async function readInRoot(root: string, name: string): Promise<string | undefined> {
  const path = await resolveInRoot(root, name);
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw invalidParameter(`the Dockerfile (${name}) is a symbolic link out of the context`);
    throw wrap(err, `reading ${name}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw invalidParameter(`${name} is not a regular file`);
    if (stats.size > MAX_DOCKERFILE_BYTES) throw invalidParameter(`${name} is larger than ${MAX_DOCKERFILE_BYTES} bytes`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function parseNamed(name: string, text: string): ParsedDockerfile {
  try {
    return parseDockerfile(text);
  } catch (err) {
    if (err instanceof BerthError) throw new BerthError(err.kind, `failed to parse ${name}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Docker's removeDockerfile: the .dockerignore and the Dockerfile go when .dockerignore excludes them. */
async function removeIgnored(root: string, dockerfileName: string): Promise<void> {
  const ignore = await readInRoot(root, '.dockerignore');
  if (ignore === undefined) return;
  const matcher = new PatternMatcher(readDockerignore(ignore));
  for (const name of ['.dockerignore', dockerfileName]) {
    if (!matcher.matchesOrParentMatches(goClean(name))) continue;
    const path = await resolveInRoot(root, name);
    if (path === root) continue;
    if ((await lstat(path).catch(() => undefined)) !== undefined) await rm(path, { recursive: true, force: true });
  }
}
