/**
 * Docker Engine API v1.50 wire shapes for networks (names from Docker's swagger definitions).
 * Types only.
 */
export interface IpamConfigWire {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** A container on a network, as `network inspect` lists it. */
export interface NetworkContainerWire {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

/** GET /networks/{id} and each entry of GET /networks. */
export interface NetworkWire {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfigWire[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, NetworkContainerWire>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** POST /networks/create body. */
export interface NetworkCreateRequestWire {
  Name: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network: string };
  IPAM?: { Driver?: string; Config?: IpamConfigWire[]; Options?: Record<string, string> };
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** POST /networks/create → 201 */
export interface NetworkCreateResponse {
  Id: string;
  Warning: string;
}

/** POST /networks/{id}/connect body. */
export interface NetworkConnectRequestWire {
  Container: string;
  EndpointConfig?: Record<string, unknown>;
}

/** POST /networks/{id}/disconnect body. */
export interface NetworkDisconnectRequestWire {
  Container: string;
  Force?: boolean;
}

/** POST /networks/prune → 200 */
export interface NetworkPruneResponse {
  NetworksDeleted: string[] | null;
}
