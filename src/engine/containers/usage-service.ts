/**
 * What a running container uses: its processes (`docker top`) and its resources (`docker
 * stats`), read from the runtime (the container's cgroup and network namespace) on demand.
 *
 * Stats come as samples with the one before (precpu_stats), from which clients compute CPU %.
 * A stream yields a sample at once and then one a second, as dockerd's collector publishes; a
 * single answer (stream=false) is the second of two samples a second apart, as dockerd primes
 * it, unless one-shot asks for one sample alone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, isKind } from '../../common/errors.js';
import type { RuntimeStats } from '../../runtime/container-runtime.js';
import { topOf, type ProcessList } from './container-top.js';
import type { ContainerRecord } from './model.js';
import type { ContainerService } from './service.js';
import { hasLiveRun } from './state-machine.js';

export const STATS_INTERVAL_MS = 1000;

export interface StatsOptions {
  stream: boolean;
  oneShot: boolean;
}

/** One stats answer: no sample when the container is not running (Docker then sends zeros). */
export interface StatsFrame {
  record: ContainerRecord;
  current?: RuntimeStats;
  previous?: RuntimeStats;
}

export class UsageService {
  constructor(private readonly containers: ContainerService) {}

  async top(idOrName: string, psArgs: string): Promise<ProcessList> {
    const record = this.containers.inspect(idOrName);
    if (!record.state.Running) throw conflict(`container ${record.id} is not running`);
    if (record.state.Restarting) throw conflict(`Container ${record.id} is restarting, wait until the container is running`);
    const pids = await this.containers.runtimeOf(record).processes(record.id);
    const list = await topOf(pids, psArgs);
    this.containers.publish('top', record);
    return list;
  }

  /** A sample of a running container; undefined once it is not (it may stop at any time). */
  private async sample(record: ContainerRecord): Promise<RuntimeStats | undefined> {
    if (!hasLiveRun(record.state)) return undefined;
    try {
      return await this.containers.runtimeOf(record).stats(record.id);
    } catch (err) {
      if (isKind(err, 'conflict') || isKind(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /** The frames of GET /containers/{id}/stats; a stream ends when the container is removed or `signal` aborts. */
  async *stats(idOrName: string, options: StatsOptions, signal: AbortSignal): AsyncGenerator<StatsFrame> {
    const record = this.containers.inspect(idOrName);
    if (!options.stream) {
      const first = await this.sample(record);
      if (!first || options.oneShot) {
        yield { record, current: first };
        return;
      }
      if (!(await pause(signal))) return;
      yield { record, current: await this.sample(record), previous: first };
      return;
    }
    let previous: RuntimeStats | undefined;
    while (this.containers.find(record.id) === record) {
      const current = await this.sample(record);
      yield { record, current, previous };
      previous = current;
      if (!(await pause(signal))) return;
    }
  }
}

/** Waits one interval; false when the client went away meanwhile. */
async function pause(signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(STATS_INTERVAL_MS, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
