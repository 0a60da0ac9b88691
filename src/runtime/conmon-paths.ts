/**
 * Where conmon and the OCI runtimes keep a container's files under the exec root. One layout for
 * every runtime, so that a container can be cleaned up from its id alone (after a crash, with no
 * record left to say where its files were).
 */
import { join } from 'node:path';

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

  /** An exec's own folder (process.json, pidfile, attach socket, exit files). */
  exec(id: string, execId: string): string {
    return join(this.execRoot, 'exec', id, execId);
  }

  /** The runtime's state root (`--root`). */
  runtimeRoot(name: string): string {
    return join(this.execRoot, 'runtime', name);
  }
}
