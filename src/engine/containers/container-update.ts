/**
 * `docker update`: changes a container's resource limits and restart policy, as moby's
 * daemon/update.go and container.UpdateContainer do. The update's own values are checked (400),
 * merged into the stored HostConfig (409 for a change that conflicts with what is set), saved,
 * and applied to a running container's cgroups by its runtime; an `update` event follows.
 */
import { conflict, invalidParameter, wrap } from '../../common/errors.js';
import type { RuntimeSet } from '../../runtime/container-runtime.js';
import type { ContainerLifecycle } from './lifecycle.js';
import type { ContainerRecord } from './model.js';
import { checkResourceLimits, ociResources, RESOURCE_FIELDS, resourceFields, type ResourceLimits } from './resource-limits.js';
import { checkRestartPolicy } from './create-config.js';
import type { RestartPolicy } from './restart-manager.js';
import { isGoing } from './state-machine.js';
import type { ContainerStore } from './store.js';

/** What an update asks for; absent or zero means "unchanged", as in moby. */
export interface UpdateRequest {
  resources: ResourceLimits;
  restartPolicy?: RestartPolicy;
}

const cannotUpdate = (id: string, message: string) => conflict(`Cannot update container ${id}: ${message}`);

/** container.UpdateContainer: the update's non-zero values over the stored ones, refusing conflicts. */
function mergedLimits(record: ContainerRecord, update: ResourceLimits): ResourceLimits {
  const current = resourceFields(record.hostConfig);
  const merged: ResourceLimits = { ...current };
  const id = record.id;
  if ((update.Memory ?? 0) !== 0) {
    if ((update.Memory ?? 0) > (current.MemorySwap ?? 0) && (update.MemorySwap ?? 0) === 0) {
      throw cannotUpdate(id, 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    merged.Memory = update.Memory;
  }
  if ((update.MemorySwap ?? 0) !== 0) merged.MemorySwap = update.MemorySwap;
  if ((update.MemoryReservation ?? 0) !== 0) merged.MemoryReservation = update.MemoryReservation;
  if ((update.NanoCpus ?? 0) !== 0) {
    if ((current.CpuQuota ?? 0) !== 0) throw cannotUpdate(id, 'Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
    merged.NanoCpus = update.NanoCpus;
  }
  if ((update.CpuQuota ?? 0) !== 0) {
    if ((current.NanoCpus ?? 0) !== 0) throw cannotUpdate(id, 'Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
    merged.CpuQuota = update.CpuQuota;
  }
  if ((update.CpuPeriod ?? 0) !== 0) {
    if ((current.NanoCpus ?? 0) !== 0) throw cannotUpdate(id, 'Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
    merged.CpuPeriod = update.CpuPeriod;
  }
  if ((update.CpuShares ?? 0) !== 0) merged.CpuShares = update.CpuShares;
  if (update.CpusetCpus) merged.CpusetCpus = update.CpusetCpus;
  if (update.CpusetMems) merged.CpusetMems = update.CpusetMems;
  if ((update.BlkioWeight ?? 0) !== 0) merged.BlkioWeight = update.BlkioWeight;
  if (update.PidsLimit !== undefined && update.PidsLimit !== null) merged.PidsLimit = update.PidsLimit > 0 ? update.PidsLimit : null;
  if ((merged.Memory ?? 0) > 0 && (merged.MemoryReservation ?? 0) > (merged.Memory ?? 0)) {
    throw invalidParameter('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  return merged;
}

/** The fields an update may change (swappiness, the OOM killer and ulimits stay as created). */
const UPDATABLE = RESOURCE_FIELDS.filter((field) => !['MemorySwappiness', 'OomKillDisable', 'Ulimits'].includes(field));

export class ContainerUpdates {
  constructor(
    private readonly store: ContainerStore,
    private readonly lifecycle: ContainerLifecycle,
    private readonly runtimes: RuntimeSet,
  ) {}

  /** Applies the update; resolves with the warnings of what the host could not enforce. */
  async update(idOrName: string, request: UpdateRequest): Promise<string[]> {
    const given: ResourceLimits = {};
    for (const field of UPDATABLE) if (request.resources[field] !== undefined) Object.assign(given, { [field]: request.resources[field] });
    const { limits, warnings } = checkResourceLimits(given, this.runtimes.cgroupFeatures(), { update: true });
    // An empty name leaves the policy as it is (moby); any other is checked as at create.
    if (request.restartPolicy?.Name) checkRestartPolicy({ RestartPolicy: request.restartPolicy });
    const record = this.store.resolve(idOrName);
    await this.lifecycle.exclusive(record, () => this.apply(record, limits, request.restartPolicy, given.PidsLimit !== undefined && given.PidsLimit !== null));
    return warnings;
  }

  private async apply(record: ContainerRecord, limits: ResourceLimits, restartPolicy: RestartPolicy | undefined, pidsChange: boolean): Promise<void> {
    if (isGoing(record.state) || record.state.Dead) throw cannotUpdate(record.id, 'container is marked for removal and cannot be "update"');
    const merged = mergedLimits(record, limits);
    const policyChanges = restartPolicy !== undefined && restartPolicy.Name !== '';
    if (policyChanges && record.hostConfig.AutoRemove && restartPolicy.Name !== 'no') {
      throw cannotUpdate(record.id, 'Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    const before = structuredClone(record.hostConfig);
    Object.assign(record.hostConfig, merged);
    if (policyChanges) record.hostConfig.RestartPolicy = { ...restartPolicy };
    try {
      await this.store.save(record);
      if (record.state.Running && !record.state.Restarting) {
        const { memory, cpu, pids, blockIO } = ociResources(merged);
        await this.lifecycle.runtimeOf(record).update(record.id, {
          ...(memory && { memory: { limit: memory.limit, swap: memory.swap, reservation: memory.reservation } }),
          ...(cpu && { cpu }),
          // 0 lifts the limit ("max"); sent only when the update changes it.
          ...(pidsChange && { pids: pids ?? { limit: 0 } }),
          ...(blockIO && { blockIO }),
        });
      }
    } catch (err) {
      record.hostConfig = before;
      await this.store.save(record).catch(() => {});
      throw wrap(err, `Cannot update container ${record.id}`);
    }
    this.lifecycle.publish('update', record);
  }
}
