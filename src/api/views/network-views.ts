import type { NetworkRecord } from '../../engine/networks/model.js';
import type { NetworkMember } from '../../engine/networks/network-service.js';
import type { NetworkWire } from '../../wire/networks.js';

/** A network as inspect and list show it, with its running containers. */
export function networkView(network: NetworkRecord, members: readonly NetworkMember[]): NetworkWire {
  const { Options, Labels, ...rest } = network;
  return {
    ...rest,
    Containers: Object.fromEntries(members.map((m) => [m.containerId, { Name: m.name, EndpointID: m.endpointId, MacAddress: m.mac, IPv4Address: m.ipv4, IPv6Address: '' }])),
    Options,
    Labels,
  };
}
