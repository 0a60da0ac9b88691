/**
 * A network as berthd keeps it: Docker's own shape (what `network inspect` returns, without the
 * live `Containers`), persisted one file per network.
 */
export interface IpamPool {
  Subnet: string;
  Gateway: string;
  IPRange?: string;
}

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  /** bridge, host or null (`--network none`). */
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string> | null; Config: IpamPool[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** The networks every daemon has, which cannot be removed (Docker's predefined networks). */
export const PREDEFINED = ['bridge', 'host', 'none'] as const;

export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
export const ICC_OPTION = 'com.docker.network.bridge.enable_icc';
export const MTU_OPTION = 'com.docker.network.driver.mtu';
export const MASQUERADE_OPTION = 'com.docker.network.bridge.enable_ip_masquerade';
export const HOST_BINDING_OPTION = 'com.docker.network.bridge.host_binding_ipv4';

/** The Linux bridge of a bridge network: named by option, else Docker's br-<12 hex of the id>. */
export function bridgeNameOf(network: NetworkRecord): string {
  return network.Options[BRIDGE_NAME_OPTION] || `br-${network.Id.slice(0, 12)}`;
}

export function isPredefined(name: string): boolean {
  return (PREDEFINED as readonly string[]).includes(name);
}
