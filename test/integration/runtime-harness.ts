/**
 * Runs real containers (conmon + crun or runc, busybox rootfs) for the runtime tests, in a
 * temporary exec root, and removes everything each one leaves: processes, runtime state, cgroups,
 * bundle files.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { writeBusyboxRootfs } from '../../src/bootstrap/busybox-rootfs.js';
import { ensureCgroupsUsable, removeContainerCgroups } from '../../src/runtime/cgroups.js';
import { connectAttach, ExitWatcher, launchContainer, type AttachConnection } from '../../src/runtime/conmon.js';
import { buildOciSpec, type SpecInput } from '../../src/runtime/oci-spec.js';
import { seccompFor } from '../../src/runtime/seccomp.js';
import { deleteContainer, killContainer, resolveRuntime, startContainer, type Runtime } from '../../src/runtime/runtime.js';

export const RUNTIMES = ['crun', 'runc'];
const EXIT_TIMEOUT_MS = 10_000;

export type ContainerOptions = Partial<Pick<SpecInput, 'tty' | 'consoleSize' | 'capAdd' | 'capDrop' | 'hostname'>> & {
  args: string[];
  stdin?: boolean;
};

export interface TestContainer {
  id: string;
  runtime: Runtime;
  bundleDir: string;
  cgroupsPath: string;
  pid: number;
  /** Resolves with the exit status ExitWatcher reports. */
  exited: Promise<number>;
}

export interface Output {
  stdout: string;
  stderr: string;
}

/** Collects what an attach connection delivers until it ends. */
export function collectOutput(connection: AttachConnection): Promise<Output> {
  const output = { stdout: '', stderr: '' };
  connection.on('data', (stream, chunk) => (output[stream] += chunk.toString('utf8')));
  return new Promise((resolve) => connection.on('end', () => resolve(output)));
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), EXIT_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One temporary exec root with a busybox rootfs and an exit watcher, shared by a test file. */
export class RuntimeHarness {
  private readonly waiters = new Map<string, (code: number) => void>();

  private constructor(
    readonly execRoot: string,
    private readonly rootfs: string,
    private readonly watcher: ExitWatcher,
  ) {
    watcher.on('exit', (id: string, code: number) => this.waiters.get(id)?.(code));
  }

  static async open(): Promise<RuntimeHarness> {
    await ensureCgroupsUsable();
    const execRoot = await mkdtemp(join(tmpdir(), 'berth-runtime-'));
    const rootfs = join(execRoot, 'rootfs');
    await writeBusyboxRootfs(rootfs);
    const watcher = new ExitWatcher(join(execRoot, 'exits'));
    await watcher.start();
    return new RuntimeHarness(execRoot, rootfs, watcher);
  }

  get exitDir(): string {
    return join(this.execRoot, 'exits');
  }

  runtime(name: string): Runtime {
    return resolveRuntime(name, this.execRoot);
  }

  /** Writes the bundle and has conmon create the container (not started); removed after test `t`. */
  async create(t: TestContext, runtimeName: string, options: ContainerOptions): Promise<TestContainer> {
    const id = randomBytes(16).toString('hex');
    const runtime = this.runtime(runtimeName);
    const bundleDir = join(this.execRoot, 'containers', id);
    const cgroupsPath = `/berth-test/${id}`;
    const persistDir = join(this.execRoot, 'persist', id);
    const exited = new Promise<number>((resolve) => this.waiters.set(id, resolve));
    t.after(() => this.remove({ id, runtime, bundleDir, cgroupsPath, persistDir }));
    const capAdd = options.capAdd ?? [];
    const capDrop = options.capDrop ?? [];
    const spec = buildOciSpec({
      rootfs: this.rootfs,
      args: options.args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
      cwd: '/',
      user: { uid: 0, gid: 0, additionalGids: [0] },
      hostname: options.hostname ?? id.slice(0, 12),
      tty: options.tty ?? false,
      consoleSize: options.consoleSize,
      mounts: [],
      capAdd,
      capDrop,
      readonlyRootfs: false,
      cgroupsPath,
      shmSize: 0,
      privileged: false,
      seccomp: await seccompFor(capAdd, capDrop),
    });
    await mkdir(bundleDir, { recursive: true });
    await mkdir(join(this.execRoot, 'logs'), { recursive: true });
    await writeFile(join(bundleDir, 'config.json'), JSON.stringify(spec));
    const { pid } = await launchContainer({
      id,
      name: `test-${id.slice(0, 8)}`,
      runtime,
      bundleDir,
      logPath: join(this.execRoot, 'logs', `${id}.log`),
      tty: options.tty ?? false,
      stdin: options.stdin ?? false,
      exitDir: this.exitDir,
      persistDir,
    });
    return { id, runtime, bundleDir, cgroupsPath, pid, exited: withTimeout(exited, `exit of ${id}`) };
  }

  /** Creates, attaches, starts; resolves with the output and the exit status. */
  async run(t: TestContext, runtimeName: string, options: ContainerOptions): Promise<Output & { code: number }> {
    const container = await this.create(t, runtimeName, options);
    const output = collectOutput(await connectAttach(container.bundleDir));
    await startContainer(container.runtime, container.id);
    const [code, out] = await Promise.all([container.exited, output]);
    return { ...out, code };
  }

  private async remove(c: Pick<TestContainer, 'id' | 'runtime' | 'bundleDir' | 'cgroupsPath'> & { persistDir: string }): Promise<void> {
    const conmonPid = Number(await readFile(join(c.bundleDir, 'conmon.pid'), 'utf8').catch(() => '0'));
    await killContainer(c.runtime, c.id, 'SIGKILL').catch(() => {});
    await deleteContainer(c.runtime, c.id, { force: true });
    // conmon leaves once the container is gone; one that is somehow still here is ours to end.
    if (conmonPid > 0 && processAlive(conmonPid)) {
      const cmdline = await readFile(`/proc/${conmonPid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes(c.id)) process.kill(conmonPid, 'SIGKILL');
    }
    await removeContainerCgroups(c.cgroupsPath);
    await Promise.all([
      rm(c.bundleDir, { recursive: true, force: true }),
      rm(c.persistDir, { recursive: true, force: true }),
      rm(join(this.exitDir, c.id), { force: true }),
      rm(join(this.execRoot, 'logs', `${c.id}.log`), { force: true }),
    ]);
    this.waiters.delete(c.id);
  }

  /** Removes the exec root (the containers are gone by then: each test removes its own). */
  async close(): Promise<void> {
    this.watcher.close();
    await rm(this.execRoot, { recursive: true, force: true });
  }
}
