import { lstat } from 'node:fs/promises';
import { bytePathOf, childPath, fsPath, namesInFolder, pathUnder, type BytePath } from '../common/byte-path.js';

/** Disk use of a layer's own content: bytes of its files (a hard-linked one once) and its entries. */
export interface Usage {
  size: number;
  inodes: number;
}

/** The usage of everything under `dir` (not `dir` itself), as moby's directory.Size counts it. */
export async function directoryUsage(dir: string): Promise<Usage> {
  const usage: Usage = { size: 0, inodes: 0 };
  const seen = new Set<string>();
  // Names are read as bytes: a name that is not UTF-8 would not name its file as a string.
  const walk = async (path: BytePath): Promise<void> => {
    for (const name of await namesInFolder(path)) {
      const child = childPath(path, name);
      const stats = await lstat(fsPath(child));
      usage.inodes++;
      if (stats.isDirectory()) await walk(child);
      else if (addOnce(seen, stats)) usage.size += stats.size;
    }
  };
  await walk(bytePathOf(dir));
  return usage;
}

/** The usage of the given paths (absolute in the layer) read under `top`, not descending. */
export async function pathsUsage(top: string, paths: BytePath[]): Promise<Usage> {
  const usage: Usage = { size: 0, inodes: paths.length };
  const seen = new Set<string>();
  const root = bytePathOf(top);
  for (const path of paths) {
    const stats = await lstat(fsPath(pathUnder(root, path)));
    if (!stats.isDirectory() && addOnce(seen, stats)) usage.size += stats.size;
  }
  return usage;
}

function addOnce(seen: Set<string>, stats: { dev: number; ino: number; nlink: number }): boolean {
  if (stats.nlink < 2) return true;
  const key = `${stats.dev}:${stats.ino}`;
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}
