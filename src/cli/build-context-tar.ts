/**
 * The build context `berth build` sends: the context directory as a tar, without what
 * .dockerignore excludes (moby's patternmatcher rules, shared with the daemon's
 * src/engine/build/dockerignore.ts), as the docker CLI packs it: paths relative to the
 * context, owners 0:0 and no user names (the daemon's COPY hashes see what Docker's would),
 * modes and times kept, links stored as links. A Dockerfile from stdin or from outside the
 * context is added under `.dockerfile.<random>` and named in the `dockerfile` parameter.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack, type Headers, type Pack } from 'tar-stream';
import { PatternMatcher, readDockerignore, type ParentMatches } from '../engine/build/dockerignore.js';

export interface PackedContext {
  tar: Readable;
  /** The `dockerfile` parameter: the Dockerfile's path inside the tar. */
  dockerfile: string;
}

async function ignoreMatcher(dir: string): Promise<PatternMatcher | undefined> {
  const text = await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : new PatternMatcher(readDockerignore(text));
}

/**
 * Packs `dir`. `dockerfile` is the Dockerfile's text when it does not come from the context
 * (stdin, or a path outside it); otherwise `dockerfileName` is its path inside the context.
 */
export async function packBuildContext(dir: string, options: { dockerfileName?: string; dockerfile?: Buffer }): Promise<PackedContext> {
  const matcher = await ignoreMatcher(dir);
  const archive = pack();
  // The docker CLI's name for it; the daemon takes any name the `dockerfile` parameter gives.
  const name = options.dockerfile ? `.dockerfile.${randomDockerfileSuffix()}` : (options.dockerfileName ?? 'Dockerfile');
  void (async () => {
    await walk(archive, dir, '', matcher, undefined);
    if (options.dockerfile) {
      await new Promise<void>((resolve, reject) =>
        archive.entry({ name, mode: 0o600, uid: 0, gid: 0, mtime: new Date() }, options.dockerfile, (err) => (err ? reject(err) : resolve())),
      );
    }
    archive.finalize();
  })().catch((err: unknown) => archive.destroy(err as Error));
  // tar-stream's packer is a streamx stream: the client sends node Readables only.
  return { tar: Readable.from(archive), dockerfile: name };
}

async function walk(archive: Pack, root: string, rel: string, matcher: PatternMatcher | undefined, parent: ParentMatches | undefined): Promise<void> {
  for (const entry of (await readdir(join(root, rel))).sort()) {
    const path = rel === '' ? entry : `${rel}/${entry}`;
    const result = matcher?.matchesUsingParentResults(path, parent);
    const stats = await lstat(join(root, path));
    if (result?.excluded) {
      // An excluded directory may still hold an exception (`!`) only when there are exceptions.
      if (stats.isDirectory() && matcher?.exclusions) await walk(archive, root, path, matcher, result.matches);
      continue;
    }
    const header: Headers = { name: path, mode: stats.mode & 0o7777, uid: 0, gid: 0, mtime: stats.mtime };
    if (stats.isDirectory()) {
      await add(archive, { ...header, name: `${path}/`, type: 'directory' });
      await walk(archive, root, path, matcher, result?.matches);
    } else if (stats.isSymbolicLink()) {
      await add(archive, { ...header, type: 'symlink', linkname: await readlink(join(root, path)) });
    } else if (stats.isFile()) {
      await pipeline(createReadStream(join(root, path), { highWaterMark: 1024 * 1024 }), archive.entry({ ...header, type: 'file', size: stats.size }));
    }
  }
}

function add(archive: Pack, header: Headers): Promise<void> {
  return new Promise((resolve, reject) => archive.entry(header, (err) => (err ? reject(err) : resolve())));
}

/**
 * Loaded on first use: node:crypto would otherwise be part of the CLI's startup snapshot, whose
 * heap every call deserializes (0.2 MB for a module only `build -f -` needs).
 */
function randomDockerfileSuffix(): string {
  return process.getBuiltinModule('node:crypto').randomBytes(10).toString('hex');
}
