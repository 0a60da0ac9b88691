/**
 * A RUN step: a container of the step's parent image made and started through the container
 * engine (the same runtime, cgroups and log files as `docker run`), its output streamed to the
 * build while it runs, and on exit 0 its diff committed as the step's layer. The container is
 * removed whatever happened (unless the build keeps it: `rm=false`), and a cancelled build
 * kills it first, so a failed or abandoned step leaves no container or mount behind.
 *
 * The removal (runtime state, mounts, network, the layer: 20–80 ms on this machine) is off the
 * step's path: the next step starts while it runs, and the build waits for every removal of its
 * steps (StepRemovals.settle) before it ends, succeeded or not.
 */
import { BerthError } from '../../common/errors.js';
import type { ContainerService } from '../containers/service.js';
import type { Image } from '../images/image-store.js';
import type { RunConfig } from './stage-evaluator.js';

const SIGKILL = 9;

/**
 * Marks the containers of RUN steps (on the container only: the image's config is the
 * builder's own), so that those a killed daemon left are found and removed at its next start.
 */
export const STEP_CONTAINER_LABEL = 'org.berth.build-step';

/** Removes the step containers a killed berthd left; returns their ids. */
export async function sweepStepContainers(containers: ContainerService): Promise<string[]> {
  const left = containers.list().filter((record) => record.config.Labels?.[STEP_CONTAINER_LABEL] !== undefined);
  for (const record of left) await containers.remove(record.id, { force: true });
  return left.map((record) => record.id);
}

/** The removals of one build's step containers, one after the other, in the background. */
export class StepRemovals {
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly containers: ContainerService) {}

  /** Queues the removal of a step's container (force: a step cut short may still run). */
  remove(containerId: string): void {
    this.last = this.last.then(() => this.containers.remove(containerId, { force: true }).catch(() => undefined));
  }

  /** Settles once every removal queued so far is done. */
  settle(): Promise<void> {
    return this.last;
  }
}

/**
 * What a build asks of every RUN step's container beyond its network mode: moby's HostConfig
 * fields (Memory, MemorySwap, CpuShares, CpusetCpus, CpuPeriod, CpuQuota, Ulimits, ExtraHosts),
 * checked at the step's create as any container's.
 */
export interface StepHostConfig {
  ShmSize?: number;
  other: Record<string, unknown>;
}

export interface RunStep {
  parent: Image;
  command: string[];
  env: string[];
  config: RunConfig;
  /** HostConfig.NetworkMode of the step's container ('' for the daemon's default). */
  networkMode: string;
  hostConfig: StepHostConfig;
  /** Keep the container after the step (the build's `rm=false`). */
  keep: boolean;
  /** Where the step's container goes when it is not kept. */
  removals: StepRemovals;
  signal: AbortSignal;
  /** Called once the container exists (` ---> Running in <id>`). */
  started(containerId: string): void;
  output(chunk: Buffer): void;
  /** Turns the exited container's diff into the step's image. */
  commit(containerId: string): Promise<Image>;
}

export const cancelled = () => new BerthError('unavailable', 'the build was cancelled: the client went away');

/** The classic builder's words for a failed RUN; the exit code travels with the error. */
export function runFailed(command: string[], exitCode: number): BerthError {
  return new BerthError('invalid-parameter', `The command '${command.join(' ')}' returned a non-zero code: ${exitCode}`, { exitCode });
}

export async function runStep(containers: ContainerService, step: RunStep): Promise<Image> {
  const { record } = await containers.create({
    config: {
      Image: step.parent.id,
      Cmd: step.command,
      // Set (not null) so that the image's ENTRYPOINT does not wrap the step's command.
      Entrypoint: [],
      Env: step.env,
      WorkingDir: step.config.WorkingDir,
      User: step.config.User,
      Labels: { [STEP_CONTAINER_LABEL]: '' },
    },
    hostConfig: { NetworkMode: step.networkMode || undefined, ShmSize: step.hostConfig.ShmSize, other: { ...step.hostConfig.other } },
    endpoints: [],
  });
  const kill = () => void containers.kill(record.id, SIGKILL).catch(() => undefined);
  step.signal.addEventListener('abort', kill);
  let committed = false;
  try {
    step.started(record.id);
    await containers.startContainer(record.id);
    const logs = containers.logs(record.id, { stdout: true, stderr: true, follow: true }, step.signal);
    for await (const entry of logs.entries) step.output(entry.payload);
    const result = await containers.wait(record.id, 'not-running', step.signal);
    if ('canceled' in result || step.signal.aborted) throw cancelled();
    if (result.exitCode !== 0) throw runFailed(step.command, result.exitCode);
    const image = await step.commit(record.id);
    committed = true;
    return image;
  } finally {
    step.signal.removeEventListener('abort', kill);
    if (!(step.keep && committed)) step.removals.remove(record.id);
  }
}
