/**
 * The seam between the engine and whatever runs containers. The engine's state machine talks
 * only to `ContainerRuntime` (one per configured runtime name) and `RuntimeSet` (the runtimes of
 * this daemon, and the exits they report); it never spawns a process or reads a runtime file.
 *
 * Implementations: conmon with an OCI runtime (crun, runc, or any `runtimes` entry of
 * daemon.json), and an in-memory fake for unit tests of the state machine.
 *
 * Life cycle of one run of a container (id = the container id):
 *   create({ id, spec, … })             → the init process exists, stopped before the user's
 *                                         program; `state` says 'created'
 *   attach(id) / resize(id, …)          → optional, before start so no output is lost
 *   start(id)                           → the program runs; `state` says 'running'
 *   kill / pause / resume / update / exec / stats while it runs
 *   … the init process ends: the RuntimeSet reports an Exit for the id (once, even across a
 *     daemon restart: an exit that happened while berthd was down is found by `pendingExit`);
 *     the runtime may already forget the run then (conmon deletes it as it leaves) …
 *   delete(id, { force: true })         → runtime state, bundle, monitor files and cgroups gone;
 *                                         a container the runtime does not know is not an error
 * `delete` also works on a container that is still running or was never started (it kills
 * first), which is how a crash between create and start is cleaned up; the exit of a container
 * killed that way may still be reported, and is to be ignored by whoever no longer runs it.
 * Errors: not-found for a container the runtime does not know (also one whose run ended),
 * conflict for the wrong state (start twice, delete of a live container without force).
 */
import type { Writable } from 'node:stream';
import type { CgroupFeatures } from './cgroup-features.js';
import type { CgroupInfo } from './cgroups.js';
import type { OciSpec } from './oci-spec.js';

export interface CreateRequest {
  id: string;
  /** For the monitor's logs (the container name without its slash). */
  name: string;
  /**
   * The container as the OCI runtime sees it. The runtime writes it to its own bundle (where
   * its monitor keeps its files too, found again from the id alone), fills in
   * `linux.cgroupsPath` when empty (PARENT/ID) and clamps `process.rlimits` to the daemon's hard
   * limits.
   */
  spec: OciSpec;
  /** The container's log file (k8s-file format); absent: no log is kept (log driver none). */
  logPath?: string;
  tty: boolean;
  /** Keep stdin open for attach clients (docker's -i). */
  stdin: boolean;
}

export type RuntimeStatus = 'created' | 'running' | 'paused' | 'stopped';

export interface RuntimeState {
  status: RuntimeStatus;
  pid: number;
}

/** How a run ended, as the monitor recorded it. */
export interface Exit {
  id: string;
  code: number;
  /** When the process ended (from the monitor's exit file, not when berthd read it). */
  finishedAt: Date;
  oomKilled: boolean;
}

export type StdStream = 'stdout' | 'stderr';

/** The container's stdio as the monitor serves it. */
export interface AttachConnection {
  /** Output chunks, tagged by stream; ends when the container's output ends. */
  output: AsyncIterable<{ stream: StdStream; data: Buffer }>;
  /** Writable only when the container was created with stdin. */
  stdin: Writable;
  close(): void;
}

export interface ExecRequest {
  /** Unique per exec; names the exec's monitor files. */
  execId: string;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  tty: boolean;
  stdin: boolean;
  privileged: boolean;
  consoleSize?: { height: number; width: number };
}

export interface ExecProcess {
  pid: number;
  /** Present when the exec was asked for output (always, today). */
  attach: AttachConnection;
  resize(height: number, width: number): Promise<void>;
  /** Resolves with the exec's exit code. */
  exited: Promise<number>;
}

/** OCI LinuxResources fields that `docker update` can change. */
export interface ResourceUpdate {
  memory?: { limit?: number; swap?: number; reservation?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: { weight?: number };
}

/** Figures read from the container's cgroup (v1 or v2) and network namespace. */
export interface RuntimeStats {
  read: Date;
  cpu: { totalNs: number; userNs: number; systemNs: number; systemUsageNs: number; onlineCpus: number; perCpuNs: number[] };
  memory: { usage: number; limit: number; maxUsage?: number; stats: Record<string, number> };
  pids: { current: number; limit?: number };
  blkio: Array<{ major: number; minor: number; op: string; value: number }>;
  networks: Record<string, { rxBytes: number; rxPackets: number; rxErrors: number; rxDropped: number; txBytes: number; txPackets: number; txErrors: number; txDropped: number }>;
}

export interface ContainerRuntime {
  /** The name containers choose it by (HostConfig.Runtime). */
  readonly name: string;
  /** The binary, for `docker info`'s Runtimes. */
  readonly path: string;
  /** Creates the container (not started). Fails with Docker's words and exit code (127/126/125). */
  create(request: CreateRequest): Promise<{ pid: number }>;
  start(id: string): Promise<void>;
  /** Fails with not-found when the runtime has no such container. */
  kill(id: string, signal: number): Promise<void>;
  delete(id: string, options: { force: boolean }): Promise<void>;
  /** undefined when the runtime has no such container. */
  state(id: string): Promise<RuntimeState | undefined>;
  /** Every container this runtime holds state for (reconciliation at daemon start). */
  list(): Promise<Array<{ id: string; state: RuntimeState }>>;
  attach(id: string): Promise<AttachConnection>;
  resize(id: string, height: number, width: number): Promise<void>;
  /**
   * The monitor closes the log file and opens its path again, creating it: the engine renamed the
   * file away to rotate it. Every line before the call is in the old file, every later one in the
   * new. Fails with conflict when the container no longer runs.
   */
  reopenLog(id: string): Promise<void>;
  exec(id: string, request: ExecRequest): Promise<ExecProcess>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  update(id: string, resources: ResourceUpdate): Promise<void>;
  stats(id: string): Promise<RuntimeStats>;
  /** Host pids of every process in the container (its cgroup's), for `top`; not-found / conflict as `stats`. */
  processes(id: string): Promise<number[]>;
}

/** The daemon's runtimes, and the exits their monitors report. */
export interface RuntimeSet {
  readonly defaultName: string;
  /** '' means the default. Unknown names fail with invalid-parameter ("unknown or invalid runtime name: X"). */
  get(name: string): ContainerRuntime;
  all(): ContainerRuntime[];
  /** The host's cgroups, for /info's CgroupVersion and CgroupDriver. */
  cgroupInfo(): CgroupInfo;
  /** Which resource limits the host's cgroups enforce (probed once). */
  cgroupFeatures(): CgroupFeatures;
  /**
   * Deletes (as `delete` with force) every container that any runtime holds anything for —
   * runtime state, bundle, monitor files, exec folders, cgroups — and that `isKnown` rejects:
   * what a crash between create and the saved record, or in the middle of a removal, left
   * behind (reconciliation at daemon start). `isKnown` is asked about every id the runtimes hold
   * anything for (the engine learns from it which records have a run left). Resolves with the
   * ids swept.
   */
  sweep(isKnown: (id: string) => boolean): Promise<string[]>;
  /** Begins reporting exits; each exit is reported until acknowledged. */
  watchExits(listener: (exit: Exit) => void): Promise<void>;
  /** An exit recorded (possibly while berthd was down) and not yet acknowledged. */
  pendingExit(id: string): Promise<Exit | undefined>;
  /** The engine saved the exit: its record may go. */
  acknowledgeExit(id: string): Promise<void>;
  close(): void;
}
