/**
 * POST /containers/{id}/update: Docker's UpdateConfig (the HostConfig Resources and a
 * RestartPolicy), Go types checked as the create decoder checks them.
 */
import type { UpdateRequest } from '../../engine/containers/container-update.js';
import { resourceFields } from '../../engine/containers/resource-limits.js';
import { decodeOtherHostFields } from './container-create.js';
import { FieldPath, integer, object, string, type JsonObject } from './json-fields.js';

const AT = new FieldPath('UpdateConfig');

export function decodeContainerUpdate(body: JsonObject): UpdateRequest {
  const restart = object(body.RestartPolicy, AT.child('RestartPolicy'));
  return {
    resources: resourceFields(decodeOtherHostFields(body, AT)),
    restartPolicy: restart && {
      Name: string(restart, 'Name', AT.child('RestartPolicy')) ?? '',
      MaximumRetryCount: integer(restart, 'MaximumRetryCount', AT.child('RestartPolicy'), 'int') ?? 0,
    },
  };
}
