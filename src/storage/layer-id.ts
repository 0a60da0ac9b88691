import { invalidParameter } from '../common/errors.js';

const LAYER_ID = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$/;

/** Checks a driver layer id (see StorageDriver): it becomes a path component. */
export function checkLayerId(id: string): string {
  if (!LAYER_ID.test(id)) throw invalidParameter(`invalid layer id ${JSON.stringify(id)}`);
  return id;
}
