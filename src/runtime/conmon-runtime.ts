/**
 * ContainerRuntime for conmon with an OCI runtime binary (crun, runc, or a daemon.json entry).
 * Each container runs under its own conmon, which owns its stdio, log and exit status, so the
 * container outlives berthd. Files live where ConmonPaths says, so that `delete` can tear down
 * from the id alone, whatever state the container is in.
 */
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeJsonAtomic } from '../common/atomic-file.js';
import { removeTree } from '../native/index.js';
import { conflict, errnoCode, notFound, unavailable } from '../common/errors.js';
import { attachConnection, connectAttach } from './attach-socket.js';
import { readCgroupProcesses, readContainerStats } from './cgroup-stats.js';
import type { CgroupFeatures } from './cgroup-features.js';
import { liftPidsLimit, removeContainerCgroups, type CgroupInfo } from './cgroups.js';
import { availableCapabilities } from './capabilities.js';
import { launchContainer } from './conmon.js';
import { startCrunContainer } from './crun-start.js';
import { conmonDeletesAtExit, deleteEndedCrunState, deletesEndedRunItself } from './crun-delete.js';
import { launchExec } from './conmon-exec.js';
import { launchDirectExec, runsExecDirectly } from './direct-exec.js';
import { reopenLog, resizeTty } from './conmon-ctl.js';
import type { ConmonPaths } from './conmon-paths.js';
import type {
  AttachConnection,
  ContainerRuntime,
  CreateRequest,
  ExecProcess,
  ExecRequest,
  ResourceUpdate,
  RuntimeState,
  RuntimeStats,
  RuntimeStatus,
} from './container-runtime.js';
import type { OciSpec } from './oci-spec.js';
import { clampRlimits, type RlimitCeilings } from './rlimits.js';
import {
  containerState,
  deleteContainer,
  killContainer,
  listContainers,
  mayHoldState,
  pauseContainer,
  resumeContainer,
  startContainer,
  updateContainer,
  type Runtime,
} from './runtime.js';
import type { SeccompBpfCache } from './seccomp-bpf-cache.js';

/** What the runtimes of one daemon share. */
export interface ConmonHost {
  /** undefined when conmon is not installed: creating a container then fails with 503. */
  conmonPath: string | undefined;
  paths: ConmonPaths;
  cgroupRoot: string;
  cgroups: CgroupInfo;
  cgroupFeatures: CgroupFeatures;
  /** Where containers go when the spec names no cgroupsPath (e.g. /berth → /berth/ID). */
  cgroupParent: string;
  seccompPrograms: SeccompBpfCache;
  /** The daemon's own hard rlimits: a runtime asked for more fails the create. */
  rlimitCeilings: RlimitCeilings;
}

/** After the runtime killed a container, how long its conmon may take to write the exit and leave. */
const CONMON_EXIT_GRACE_MS = 2000;
const CONMON_POLL_MS = 2;

/** The runtime's status words in the interface's four (crun says 'creating' for an instant). */
function runtimeStatus(status: string): RuntimeStatus {
  if (status === 'running' || status === 'paused' || status === 'stopped') return status;
  return 'created';
}

async function readJson<T>(path: string): Promise<T | undefined> {
  return readFile(path, 'utf8')
    .then((text) => JSON.parse(text) as T)
    .catch(() => undefined);
}

/** Whether `pid` is still the conmon of container `id` (pids are reused). */
async function isConmonOf(pid: number, id: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes(id);
}

/** An exec's process: the container's (capabilities, rlimits, …) with the request's own. */
function execProcess(base: OciSpec['process'], request: ExecRequest): OciSpec['process'] {
  const capabilities = request.privileged ? [...availableCapabilities()] : undefined;
  return {
    ...base,
    terminal: request.tty,
    consoleSize: request.tty ? request.consoleSize : undefined,
    user: { ...request.user, additionalGids: [...request.user.additionalGids] },
    args: [...request.args],
    env: [...request.env],
    cwd: request.cwd,
    capabilities: capabilities
      ? { bounding: capabilities, effective: [...capabilities], permitted: [...capabilities] }
      : base.capabilities,
  };
}

export class ConmonRuntime implements ContainerRuntime {
  readonly name: string;
  readonly path: string;

  constructor(
    private readonly oci: Runtime,
    private readonly host: ConmonHost,
  ) {
    this.name = oci.name;
    this.path = oci.path;
  }

  private bundle(id: string): string {
    return this.host.paths.bundle(id);
  }

  async create(request: CreateRequest): Promise<{ pid: number }> {
    const { id } = request;
    const conmonPath = this.host.conmonPath;
    if (!conmonPath) throw unavailable('conmon is not installed (apt-get install conmon)');
    const spec = this.hostSpec(request);
    const compileKey = this.host.seccompPrograms.prepare(spec, this.oci);
    const bundleDir = this.bundle(id);
    const persistDir = this.host.paths.persist(id);
    // A previous run's `oom` must not mark this one.
    await rm(persistDir, { recursive: true, force: true });
    await writeJsonAtomic(join(bundleDir, 'config.json'), spec, { durable: false });
    const { pid } = await launchContainer({
      conmonPath,
      id,
      name: request.name,
      runtime: this.oci,
      bundleDir,
      logPath: request.logPath,
      tty: request.tty,
      stdin: request.stdin,
      exitDir: this.host.paths.exits,
      persistDir,
      removeCgroups: (cgroupsPath) => removeContainerCgroups(cgroupsPath, this.host.cgroupRoot),
      exitCommand: conmonDeletesAtExit(this.oci, spec),
    });
    if (compileKey) await this.host.seccompPrograms.remember(compileKey, this.oci, id);
    return { pid };
  }

  /** The request's spec as this host can run it: a cgroup path, and rlimits within the daemon's. */
  private hostSpec(request: CreateRequest): OciSpec {
    // Copies of the parts changed here and by the seccomp cache; the caller's spec stays as it was
    // (a deep copy of a seccomp profile would cost a good part of a millisecond per start).
    const { spec } = request;
    const rlimits = spec.process.rlimits && clampRlimits(spec.process.rlimits, this.host.rlimitCeilings);
    return {
      ...spec,
      process: { ...spec.process, ...(rlimits ? { rlimits } : {}) },
      linux: { ...spec.linux, cgroupsPath: spec.linux.cgroupsPath || `${this.host.cgroupParent}/${request.id}` },
    };
  }

  /** crun's start is three file calls, made here (crun-start.ts); other runtimes are asked. */
  start(id: string): Promise<void> {
    return this.oci.name === 'crun' ? startCrunContainer(this.oci.root, id) : startContainer(this.oci, id);
  }

  kill(id: string, signal: number): Promise<void> {
    return killContainer(this.oci, id, signal);
  }

  /**
   * The one teardown: the runtime's state (killing the process if need be), conmon (which leaves
   * once its container is gone), the cgroups, the bundle and the persist dir. The exit file stays
   * until the engine acknowledges it, so an exit it could not save yet (a full disk) is read again.
   * Each step tolerates what is already gone, so a teardown cut short by a crash is finished by
   * the next call. (A live container deleted with force may still have its exit reported.)
   */
  async delete(id: string, options: { force: boolean }): Promise<void> {
    const bundleDir = this.bundle(id);
    const [spec, conmonPidText, exitRecorded] = await Promise.all([
      readJson<OciSpec>(join(bundleDir, 'config.json')),
      readFile(join(bundleDir, 'conmon.pid'), 'utf8').catch(() => '0'),
      this.exitRecorded(id),
    ]);
    const cgroupsPath = spec?.linux.cgroupsPath || `${this.host.cgroupParent}/${id}`;
    const conmonPid = Number(conmonPidText);
    // After an exit, conmon has run crun's delete (its exit command) before it left, or berthd
    // deletes crun's state itself (crun-delete.ts); the runtime is called here otherwise (runc and
    // others, conmon killed, a run never started, a live container deleted with force).
    const exited = conmonPid > 0 && exitRecorded;
    if (exited) await this.awaitConmonExit(conmonPid, id);
    const deletesItself = exited && spec !== undefined && deletesEndedRunItself(this.oci, spec);
    if (!deletesItself) {
      if (await mayHoldState(this.oci, id)) await deleteContainer(this.oci, id, options);
      if (conmonPid > 0 && !exited) await this.awaitConmonExit(conmonPid, id);
    }
    // The cgroups before the bundle (its config.json says where they are) and crun's state (as
    // crun orders them).
    await removeContainerCgroups(cgroupsPath, this.host.cgroupRoot);
    await Promise.all([
      deletesItself ? deleteEndedCrunState(this.oci.root, id) : undefined,
      removeTree(bundleDir),
      removeTree(this.host.paths.persist(id)),
      removeTree(this.host.paths.execs(id)),
    ]);
  }

  /** Whether conmon has recorded the exit of this run (its persist dir is emptied at each create). */
  private async exitRecorded(id: string): Promise<boolean> {
    return access(join(this.host.paths.persist(id), 'exit')).then(
      () => true,
      () => false,
    );
  }

  /** Waits for conmon to record the exit and leave; one that lingers is killed. */
  private async awaitConmonExit(pid: number, id: string): Promise<void> {
    for (let waited = 0; waited < CONMON_EXIT_GRACE_MS; waited += CONMON_POLL_MS) {
      if (!(await isConmonOf(pid, id))) return;
      await sleep(CONMON_POLL_MS);
    }
    try {
      if (await isConmonOf(pid, id)) process.kill(pid, 'SIGKILL');
    } catch (err) {
      if (errnoCode(err) !== 'ESRCH') throw err; // it left meanwhile
    }
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    const state = await containerState(this.oci, id);
    return state && { status: runtimeStatus(state.status), pid: state.pid };
  }

  async list(): Promise<Array<{ id: string; state: RuntimeState }>> {
    const entries = await listContainers(this.oci);
    return entries.map(({ id, status, pid }) => ({ id, state: { status: runtimeStatus(status), pid } }));
  }

  async attach(id: string): Promise<AttachConnection> {
    return attachConnection(await connectAttach(this.bundle(id)));
  }

  resize(id: string, height: number, width: number): Promise<void> {
    return resizeTty(this.bundle(id), height, width);
  }

  reopenLog(id: string): Promise<void> {
    return reopenLog(this.bundle(id));
  }

  /**
   * crun runs an exec without a terminal as berthd's own child (direct-exec.ts); conmon runs the
   * others: a terminal needs it, and runc, not detached, waits for every holder of the process's
   * stdio (a background child) before it reports the exit.
   */
  async exec(id: string, request: ExecRequest): Promise<ExecProcess> {
    const conmonPath = this.host.conmonPath;
    if (!conmonPath) throw unavailable('conmon is not installed (apt-get install conmon)');
    const dir = this.host.paths.exec(id, request.execId);
    const [spec] = await Promise.all([readJson<OciSpec>(join(this.bundle(id), 'config.json')), mkdir(dir, { recursive: true })]);
    if (!spec) {
      await rm(dir, { recursive: true, force: true });
      throw notFound(`no such container: ${id}`);
    }
    const processSpec = execProcess(spec.process, request);
    if (!request.tty && runsExecDirectly(this.oci)) {
      const launched = await launchDirectExec({ runtime: this.oci, containerId: id, dir, process: processSpec, stdin: request.stdin });
      // A process without a terminal has no size to set.
      return { pid: launched.pid, attach: attachConnection(launched.socket), resize: async () => {}, exited: launched.exited };
    }
    const launched = await launchExec({
      conmonPath,
      runtime: this.oci,
      containerId: id,
      execId: request.execId,
      name: `exec-${request.execId.slice(0, 12)}`,
      dir,
      process: processSpec,
      tty: request.tty,
      stdin: request.stdin,
    });
    return {
      pid: launched.pid,
      attach: attachConnection(launched.socket),
      resize: (height, width) => resizeTty(dir, height, width),
      exited: launched.exited,
    };
  }

  pause(id: string): Promise<void> {
    return pauseContainer(this.oci, id);
  }

  resume(id: string): Promise<void> {
    return resumeContainer(this.oci, id);
  }

  /** A pids limit of 0 or less lifts the limit. */
  async update(id: string, resources: ResourceUpdate): Promise<void> {
    const path = join(this.bundle(id), 'resources.json');
    const lift = resources.pids !== undefined && resources.pids.limit <= 0;
    const { pids, ...rest } = resources;
    await writeJsonAtomic(path, lift ? rest : { ...rest, ...(pids && { pids }) }, { durable: false }).catch((err) => {
      throw errnoCode(err) === 'ENOENT' ? notFound(`no such container: ${id}`, err) : err;
    });
    try {
      await updateContainer(this.oci, id, path);
    } finally {
      await rm(path, { force: true });
    }
    if (lift) await liftPidsLimit(this.host.cgroupRoot, this.host.cgroups, await this.cgroupsPath(id));
  }

  async stats(id: string): Promise<RuntimeStats> {
    const cgroupsPath = await this.cgroupsPath(id);
    const pid = await this.livePid(id, cgroupsPath);
    return readContainerStats({ root: this.host.cgroupRoot, cgroups: this.host.cgroups, cgroupsPath, pid });
  }

  async processes(id: string): Promise<number[]> {
    const cgroupsPath = await this.cgroupsPath(id);
    await this.livePid(id, cgroupsPath);
    return readCgroupProcesses({ root: this.host.cgroupRoot, cgroups: this.host.cgroups, cgroupsPath });
  }

  /**
   * The container's init pid (conmon's pidfile) while that process still lives in the container's
   * cgroup (pids are reused). Read from files, not from `RUNTIME state`: stats are polled, and a
   * runtime process per poll and container is most of their cost.
   */
  private async livePid(id: string, cgroupsPath: string): Promise<number> {
    const text = await readFile(join(this.bundle(id), 'pidfile'), 'utf8').catch(() => undefined);
    if (text === undefined) throw notFound(`no such container: ${id}`);
    const pid = Number(text.trim());
    const cgroup = pid > 0 ? await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '') : '';
    if (!cgroup.includes(cgroupsPath)) throw conflict(`container ${id} is not running`);
    return pid;
  }

  /** Where the container's cgroup is: its bundle says, else where create would have put it. */
  private async cgroupsPath(id: string): Promise<string> {
    const spec = await readJson<OciSpec>(join(this.bundle(id), 'config.json'));
    return spec?.linux.cgroupsPath || `${this.host.cgroupParent}/${id}`;
  }
}
