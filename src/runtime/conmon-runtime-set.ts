/**
 * The daemon's runtimes: crun and runc when installed, plus daemon.json's `runtimes` (as dockerd:
 * `{"name": {"path": "/abs/path", "runtimeArgs": [...]}}`), all driven through conmon, and the
 * exits their conmons record in the shared exit dir.
 */
import { unlink } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { errnoCode, invalidParameter } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { detectCgroupFeatures, type CgroupFeatures } from './cgroup-features.js';
import { CGROUP_ROOT, cgroupsUnder, detectCgroups, enableV2Controllers, type CgroupInfo } from './cgroups.js';
import { ConmonPaths } from './conmon-paths.js';
import { ConmonRuntime, type ConmonHost } from './conmon-runtime.js';
import type { ContainerRuntime, Exit, RuntimeSet } from './container-runtime.js';
import { findExecutable } from './executables.js';
import { ExitWatcher, readExit, readOomFlag } from './exit-files.js';
import { hostHardLimits } from './rlimits.js';
import { BUILTIN_RUNTIMES, type Runtime } from './runtime.js';
import { SeccompBpfCache } from './seccomp-bpf-cache.js';

/** One daemon.json `runtimes` entry. */
export interface RuntimeConfig {
  path: string;
  runtimeArgs?: string[];
}

export interface ConmonRuntimeSetOptions {
  execRoot: string;
  /** '' or absent: crun. */
  defaultRuntime?: string;
  runtimes?: Readonly<Record<string, RuntimeConfig>>;
  logger: Logger;
  /** The cgroup file system (tests point it elsewhere). */
  cgroupRoot?: string;
  /** Where containers' cgroups go unless their spec says otherwise. */
  cgroupParent?: string;
}

const DEFAULT_CGROUP_PARENT = '/berth';

function unknownRuntime(name: string) {
  return invalidParameter(`unknown or invalid runtime name: ${name}`);
}

/** The runtime binaries this daemon offers, built-in ones first. */
function runtimeBinaries(configured: Readonly<Record<string, RuntimeConfig>>): Array<Omit<Runtime, 'root'>> {
  const builtins = BUILTIN_RUNTIMES.flatMap((name) => {
    const path = findExecutable(name);
    return path ? [{ name, path }] : [];
  });
  const extra = Object.entries(configured).map(([name, config]) => {
    if (BUILTIN_RUNTIMES.includes(name)) throw invalidParameter(`runtime name '${name}' is reserved`);
    const path = isAbsolute(config.path) ? config.path : findExecutable(config.path);
    if (!path) throw invalidParameter(`runtime ${name}: executable not found: ${config.path}`);
    return { name, path, args: [...(config.runtimeArgs ?? [])] };
  });
  return [...builtins, ...extra];
}

export class ConmonRuntimeSet implements RuntimeSet {
  readonly defaultName: string;
  private readonly runtimes = new Map<string, ConmonRuntime>();
  private watcher: ExitWatcher | undefined;

  private constructor(
    private readonly host: ConmonHost,
    private readonly logger: Logger,
    binaries: Array<Omit<Runtime, 'root'>>,
    defaultName: string,
  ) {
    for (const binary of binaries) {
      this.runtimes.set(binary.name, new ConmonRuntime({ ...binary, root: host.paths.runtimeRoot(binary.name) }, host));
    }
    this.defaultName = defaultName;
    if (!this.runtimes.has(defaultName)) throw unknownRuntime(defaultName);
  }

  /** Finds the runtimes and conmon, and the host's cgroup version. */
  static async open(options: ConmonRuntimeSetOptions): Promise<ConmonRuntimeSet> {
    const cgroupRoot = options.cgroupRoot ?? CGROUP_ROOT;
    const cgroups = await detectCgroups(cgroupRoot);
    const cgroupParent = options.cgroupParent ?? DEFAULT_CGROUP_PARENT;
    if (cgroups.version === '2') await enableV2Controllers(cgroupRoot, cgroupParent);
    const host: ConmonHost = {
      conmonPath: findExecutable('conmon'),
      paths: new ConmonPaths(options.execRoot),
      cgroupRoot,
      cgroups,
      cgroupFeatures: await detectCgroupFeatures(cgroupRoot, cgroups),
      cgroupParent,
      seccompPrograms: new SeccompBpfCache(),
      rlimitCeilings: hostHardLimits(),
    };
    return new ConmonRuntimeSet(host, options.logger, runtimeBinaries(options.runtimes ?? {}), options.defaultRuntime || BUILTIN_RUNTIMES[0]);
  }

  get(name: string): ContainerRuntime {
    const runtime = this.runtimes.get(name || this.defaultName);
    if (!runtime) throw unknownRuntime(name);
    return runtime;
  }

  all(): ContainerRuntime[] {
    return [...this.runtimes.values()];
  }

  cgroupInfo(): CgroupInfo {
    return { ...this.host.cgroups };
  }

  cgroupFeatures(): CgroupFeatures {
    return { ...this.host.cgroupFeatures };
  }

  async sweep(isKnown: (id: string) => boolean): Promise<string[]> {
    // Runtime state must be deleted by the runtime that holds it; the rest by any.
    const holders = new Map<string, ConmonRuntime>();
    for (const runtime of this.runtimes.values()) {
      const listed = await runtime.list().catch((err: unknown) => {
        this.logger.warn('listing the containers of a runtime', { runtime: runtime.name, err });
        return [];
      });
      for (const { id } of listed) holders.set(id, runtime);
    }
    const files = await this.host.paths.containerIds();
    const cgroups = await cgroupsUnder(this.host.cgroupParent, this.host.cgroupRoot);
    const ids = [...new Set([...holders.keys(), ...files, ...cgroups])].filter((id) => !isKnown(id));
    const swept: string[] = [];
    for (const id of ids) {
      const runtime = holders.get(id) ?? this.runtimes.get(this.defaultName)!;
      try {
        await runtime.delete(id, { force: true });
        // The exit file is the exit protocol's, not the run's: nobody will acknowledge this one.
        await this.acknowledgeExit(id);
        swept.push(id);
      } catch (err) {
        this.logger.warn('removing what a container left behind', { id, err });
      }
    }
    return swept;
  }

  /**
   * Reports every exit file, those already there first. The watcher survives its own errors
   * (logged; it watches and scans the folder again). A listener that throws is logged; its exit
   * stays pending (`pendingExit`, and reported again at the next daemon start) until acknowledged.
   */
  async watchExits(listener: (exit: Exit) => void): Promise<void> {
    this.watcher?.close();
    const watcher = new ExitWatcher(this.host.paths.exits);
    this.watcher = watcher;
    watcher.on('error', (err: unknown) => this.logger.error('watching container exits', { err }));
    watcher.on('exit', (id: string, code: number, finishedAt: Date) => {
      void this.exitOf(id, code, finishedAt).then((exit) => {
        try {
          listener(exit);
        } catch (err) {
          this.logger.error('handling a container exit', { id, err });
        }
      });
    });
    await watcher.start();
  }

  private async exitOf(id: string, code: number, finishedAt: Date): Promise<Exit> {
    const oomKilled = await readOomFlag(this.host.paths.persist(id)).catch(() => false);
    return { id, code, finishedAt, oomKilled };
  }

  async pendingExit(id: string): Promise<Exit | undefined> {
    const recorded = await readExit(this.host.paths.exits, id);
    return recorded && this.exitOf(id, recorded.code, recorded.finishedAt);
  }

  async acknowledgeExit(id: string): Promise<void> {
    try {
      await unlink(`${this.host.paths.exits}/${id}`);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
