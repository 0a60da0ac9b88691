/**
 * Runs real containers (conmon + crun or runc, busybox rootfs) through ConmonRuntimeSet for the
 * runtime tests, in a temporary exec root. Each container is deleted after its test with the
 * runtime's own teardown, which the tests check leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { writeBusyboxRootfs } from '../../src/bootstrap/busybox-rootfs.js';
import { createLogger } from '../../src/common/logger.js';
import { CGROUP_ROOT, ensureCgroupsUsable } from '../../src/runtime/cgroups.js';
import { ConmonRuntimeSet, type RuntimeConfig } from '../../src/runtime/conmon-runtime-set.js';
import type { AttachConnection, ContainerRuntime, Exit } from '../../src/runtime/container-runtime.js';
import { buildOciSpec, type OciSpec, type SpecInput } from '../../src/runtime/oci-spec.js';
import { seccompFor } from '../../src/runtime/seccomp.js';

export const RUNTIMES = ['crun', 'runc'];
export const CGROUP_PARENT = '/berth-test';
const EXIT_TIMEOUT_MS = 10_000;

export type ContainerOptions = Partial<Pick<SpecInput, 'tty' | 'consoleSize' | 'capAdd' | 'capDrop' | 'hostname' | 'rlimits'>> & {
  args: string[];
  stdin?: boolean;
  /** Changes to the spec before create (resources, …). */
  adjust?: (spec: OciSpec) => void;
};

export interface TestContainer {
  id: string;
  runtime: ContainerRuntime;
  cgroupsPath: string;
  pid: number;
  /** Resolves with the exit the RuntimeSet reports. */
  exited: Promise<Exit>;
}

export interface Output {
  stdout: string;
  stderr: string;
}

/** Collects what an attach connection delivers until it ends. */
export async function collectOutput(connection: AttachConnection): Promise<Output> {
  const output = { stdout: '', stderr: '' };
  for await (const { stream, data } of connection.output) output[stream] += data.toString('utf8');
  return output;
}

export function withTimeout<T>(promise: Promise<T>, what: string, ms = EXIT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function processesMentioning(text: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const matches = await Promise.all(
    pids.map(async (pid) => ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(text) ? Number(pid) : 0)),
  );
  return matches.filter((pid) => pid !== 0 && pid !== process.pid);
}

/** The hierarchies (v1) in which the cgroup folder exists. */
export async function existingCgroupDirs(cgroupsPath: string): Promise<string[]> {
  const hierarchies = await readdir(CGROUP_ROOT);
  const found = await Promise.all(
    hierarchies.map((h) =>
      readdir(join(CGROUP_ROOT, h, cgroupsPath)).then(
        () => h,
        () => '',
      ),
    ),
  );
  return found.filter((h) => h !== '');
}

/** One temporary exec root with a busybox rootfs and a runtime set, shared by a test file. */
export class RuntimeHarness {
  private readonly waiters = new Map<string, (exit: Exit) => void>();

  private constructor(
    readonly execRoot: string,
    private readonly rootfs: string,
    readonly runtimes: ConmonRuntimeSet,
  ) {}

  /** `runtimes` as daemon.json's, each made from the exec root (for files the runtime writes). */
  static async open(runtimes: (execRoot: string) => Record<string, RuntimeConfig> = () => ({})): Promise<RuntimeHarness> {
    await ensureCgroupsUsable();
    const execRoot = await mkdtemp(join(tmpdir(), 'berth-runtime-'));
    const rootfs = join(execRoot, 'rootfs');
    await writeBusyboxRootfs(rootfs);
    const set = await ConmonRuntimeSet.open({
      execRoot,
      logger: createLogger('error'),
      cgroupParent: CGROUP_PARENT,
      runtimes: runtimes(execRoot),
    });
    const harness = new RuntimeHarness(execRoot, rootfs, set);
    await set.watchExits((exit) => harness.waiters.get(exit.id)?.(exit));
    return harness;
  }

  async spec(id: string, options: ContainerOptions): Promise<OciSpec> {
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
      cgroupsPath: '',
      shmSize: 0,
      privileged: false,
      seccomp: await seccompFor(capAdd, capDrop),
      rlimits: options.rlimits,
    });
    options.adjust?.(spec);
    return spec;
  }

  logPath(id: string): string {
    return join(this.execRoot, 'logs', `${id}.log`);
  }

  /** Creates the container (not started); it is deleted after test `t`. */
  async create(t: TestContext, runtimeName: string, options: ContainerOptions): Promise<TestContainer> {
    const id = randomBytes(16).toString('hex');
    const runtime = this.runtimes.get(runtimeName);
    const exited = new Promise<Exit>((resolve) => this.waiters.set(id, resolve));
    t.after(async () => {
      await runtime.delete(id, { force: true });
      await this.runtimes.acknowledgeExit(id); // as the engine does once it saved the exit
      await rm(this.logPath(id), { force: true });
      this.waiters.delete(id);
    });
    await mkdir(join(this.execRoot, 'logs'), { recursive: true });
    const { pid } = await runtime.create({
      id,
      name: `test-${id.slice(0, 8)}`,
      spec: await this.spec(id, options),
      logPath: this.logPath(id),
      tty: options.tty ?? false,
      stdin: options.stdin ?? false,
    });
    const timedExit = withTimeout(exited, `exit of ${id}`);
    timedExit.catch(() => {}); // a test that never awaits the exit (it deletes the container) is fine
    return { id, runtime, cgroupsPath: `${CGROUP_PARENT}/${id}`, pid, exited: timedExit };
  }

  /** Creates, attaches, starts; resolves with the output and the exit status. */
  async run(t: TestContext, runtimeName: string, options: ContainerOptions): Promise<Output & { code: number }> {
    const container = await this.create(t, runtimeName, options);
    const output = collectOutput(await container.runtime.attach(container.id));
    await container.runtime.start(container.id);
    const [exit, out] = await Promise.all([container.exited, output]);
    return { ...out, code: exit.code };
  }

  /** Removes the exec root (the containers are gone by then: each test removes its own). */
  async close(): Promise<void> {
    this.runtimes.close();
    await rm(this.execRoot, { recursive: true, force: true });
  }
}
