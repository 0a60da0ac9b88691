/**
 * Where conmon and the OCI runtimes keep a container's files under the exec root. One layout for
 * every runtime, so that a container can be cleaned up from its id alone (after a crash, with no
 * record left to say where its files were).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../common/errors.js';

export class ConmonPaths {
  constructor(readonly execRoot: string) {}

  /** The OCI bundle: config.json, and conmon's pidfiles, ctl fifo and attach socket. */
  bundle(id: string): string {
    return join(this.execRoot, 'containers', id);
  }

  /** conmon's files that outlive it (exit, oom). */
  persist(id: string): string {
    return join(this.execRoot, 'persist', id);
  }

  /** Shared by all containers; conmon writes EXITS/ID when the container's init ends. */
  get exits(): string {
    return join(this.execRoot, 'exits');
  }

  /** The folder of the container's execs. */
  execs(id: string): string {
    return join(this.execRoot, 'exec', id);
  }

  /** An exec's own folder (process.json, pidfile, attach socket, exit files). */
  exec(id: string, execId: string): string {
    return join(this.execs(id), execId);
  }

  /**
   * Every container id with a bundle, persist dir, exit file or exec folder here. (conmon's
   * temporary exit files carry a '.XXXXXX' suffix; ids never contain a dot.)
   */
  async containerIds(): Promise<string[]> {
    const folders = ['containers', 'persist', 'exits', 'exec'].map((name) => join(this.execRoot, name));
    const names = await Promise.all(folders.map(namesIn));
    return [...new Set(names.flat().filter((name) => !name.includes('.')))];
  }

  /** The runtime's state root (`--root`). */
  runtimeRoot(name: string): string {
    return join(this.execRoot, 'runtime', name);
  }
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}
