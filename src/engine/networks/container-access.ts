/** What networking needs of the container engine: find records, change one as its own job, save it. */
import type { ContainerRecord } from '../containers/model.js';

export interface ContainerAccess {
  resolve(idOrName: string): ContainerRecord;
  get(id: string): ContainerRecord | undefined;
  all(): ContainerRecord[];
  exclusive<T>(record: ContainerRecord, job: () => Promise<T>): Promise<T>;
  save(record: ContainerRecord): Promise<void>;
  /** Resolves once the container's queued jobs (its teardown after an exit or removal) have run. */
  settled(id: string): Promise<void>;
}
