/**
 * Bodies of the network endpoints decoded with dockerd's JSON decoder's messages for a field of
 * the wrong type.
 */
import type { NetworkCreateRequest } from '../../engine/networks/network-create.js';
import type { EndpointRequest } from '../../engine/containers/spec.js';
import { decodeEndpoint } from './container-create.js';
import { bool, FieldPath, object, string, stringMap, type JsonObject } from './json-fields.js';

const CREATE = new FieldPath('CreateRequest');

export function decodeNetworkCreate(body: JsonObject): NetworkCreateRequest {
  const ipam = object(body.IPAM, CREATE.child('IPAM'));
  const ipamAt = CREATE.child('IPAM');
  const configs = ipam?.Config;
  if (configs !== undefined && configs !== null && !Array.isArray(configs)) throw ipamAt.child('Config').mismatch(configs, '[]network.IPAMConfig');
  const configFrom = object(body.ConfigFrom, CREATE.child('ConfigFrom'));
  return {
    Name: string(body, 'Name', CREATE) ?? '',
    Driver: string(body, 'Driver', CREATE),
    Scope: string(body, 'Scope', CREATE),
    Internal: bool(body, 'Internal', CREATE),
    Attachable: bool(body, 'Attachable', CREATE),
    Ingress: bool(body, 'Ingress', CREATE),
    EnableIPv4: bool(body, 'EnableIPv4', CREATE),
    EnableIPv6: bool(body, 'EnableIPv6', CREATE),
    ConfigOnly: bool(body, 'ConfigOnly', CREATE),
    ConfigFrom: configFrom && { Network: string(configFrom, 'Network', CREATE.child('ConfigFrom')) },
    Options: stringMap(body, 'Options', CREATE),
    Labels: stringMap(body, 'Labels', CREATE),
    IPAM: ipam && {
      Driver: string(ipam, 'Driver', ipamAt),
      Options: stringMap(ipam, 'Options', ipamAt),
      Config: ((configs as unknown[] | null | undefined) ?? []).map((entry, i) => {
        const at = ipamAt.child('Config').child(String(i));
        const c = object(entry, at) ?? {};
        return { Subnet: string(c, 'Subnet', at), IPRange: string(c, 'IPRange', at), Gateway: string(c, 'Gateway', at) };
      }),
    },
  };
}

const CONNECT = new FieldPath('NetworkConnectRequest');

export function decodeNetworkConnect(body: JsonObject): { container: string; endpoint: EndpointRequest } {
  const endpoint = object(body.EndpointConfig, CONNECT.child('EndpointConfig')) ?? {};
  return { container: string(body, 'Container', CONNECT) ?? '', endpoint: decodeEndpoint('', endpoint, CONNECT.child('EndpointConfig')) };
}

export function decodeNetworkDisconnect(body: JsonObject): { container: string; force: boolean } {
  const at = new FieldPath('NetworkDisconnectRequest');
  return { container: string(body, 'Container', at) ?? '', force: bool(body, 'Force', at) ?? false };
}
