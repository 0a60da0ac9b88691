import { open, readdir, rename, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { errnoCode } from './errors.js';

/** fsync a directory so that a rename or unlink inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The name writeFileAtomic gives its temporary file: `.NAME.<12 hex>.tmp`. */
const TEMP_NAME = /^\..+\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes from `dir` the temporary files of atomic writes that a crash cut short (the target file
 * kept its old content, or never existed). Stores call it on their folders when the daemon starts.
 */
export async function removeInterruptedWrites(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => TEMP_NAME.test(name)).map((name) => rm(join(dir, name), { force: true })));
}

/**
 * Writes `data` to `path` so that a reader (or a crash) sees either the old or the new content,
 * never a mix: temporary file in the same folder, fsync, rename, fsync the folder.
 * `durable: false` skips both fsyncs, for state that is rebuilt on restart anyway (kept off the
 * container start path, where every fsync costs milliseconds).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number; durable?: boolean; createDir?: boolean } = {},
): Promise<void> {
  const dir = dirname(path);
  if (options.createDir !== false) await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', options.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    if (options.durable !== false) await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (options.durable !== false) await fsyncDir(dir);
}

export async function writeJsonAtomic(
  path: string,
  value: unknown,
  options?: { mode?: number; durable?: boolean; createDir?: boolean },
): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value), options);
}

/** Reads a JSON file, or returns undefined when it does not exist. */
export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
