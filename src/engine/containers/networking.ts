/**
 * What the container engine asks of networking (engine/networks implements it; none in tests of
 * the life cycle alone, where containers keep a private loopback-only namespace):
 *   - at create, the endpoints a container asks for are checked and recorded;
 *   - before each run, its network is set up and the namespace to run in is returned;
 *   - after each run (ended, failed or removed), everything of it is undone — idempotently, as
 *     the one teardown path also releases runs a crash left behind.
 */
import type { ContainerRecord, StoredEndpoint } from './model.js';
import type { EndpointRequest } from './spec.js';

export interface PublishedPort {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
}

/** The network namespace a run gets: its own (path), the host's, or another container's. */
export type RunNetwork =
  | { kind: 'private'; path?: string; /** --link variables */ env?: string[]; /** for the runtime to set in the namespace (the container's own --sysctl win) */ sysctls?: Record<string, string> }
  | { kind: 'host' }
  | { kind: 'joined'; path: string };

export interface ContainerNetworking {
  /**
   * Checks the mode and endpoints of a create (unknown network: 404) and returns the endpoints to
   * record; `containerMac` is Config.MacAddress (clients before API 1.44).
   */
  plan(mode: string, endpoints: readonly EndpointRequest[], record: Pick<ContainerRecord, 'hostConfig' | 'config'>, containerMac?: string): Record<string, StoredEndpoint>;
  /** Sets up the network of a run: namespace, interfaces, addresses, ports, /etc/hosts and resolv.conf. */
  attach(record: ContainerRecord): Promise<RunNetwork>;
  /** Undoes the network of a container's run, if any. */
  detach(containerId: string): Promise<void>;
}
