/**
 * The network use cases, as the API calls them: create, list, inspect, remove, prune, connect and
 * disconnect, with Docker's events (create, destroy, connect, disconnect). The plumbing of a
 * container's network (its sandbox, run by run) is the attacher's; the store keeps the records.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { forbidden, invalidParameter } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { EventBus } from '../events/event-bus.js';
import { checkFilters, filterValues, labelsMatch, type Filters } from '../filters.js';
import type { EndpointRequest } from '../containers/spec.js';
import { ContainerAttacher } from './attacher.js';
import type { ContainerAccess } from './container-access.js';
import { defaultBridgeNetwork, hostNetwork, hostRoutes, noneNetwork, type BridgeSettings } from './default-bridge.js';
import { endpointFor } from './endpoint-plan.js';
import { networkInUse } from './errors.js';
import { Ipam } from './ipam.js';
import { isPredefined, type NetworkRecord } from './model.js';
import { Netavark } from './netavark.js';
import { BridgePlumbing } from './bridge-plumbing.js';
import { newNetwork, type NetworkCreateRequest } from './network-create.js';
import { NetworkStore } from './network-store.js';
import { PortReservations } from './port-bindings.js';
import { SandboxStore } from './sandboxes.js';
import { SerialExecutor } from '../containers/serial-executor.js';

export interface NetworkServiceOptions {
  dataRoot: string;
  execRoot: string;
  bridge: BridgeSettings;
  binaries: { netavark: string; aardvark: string };
  /** Published ports are relayed by berthd's sockets, so that the host's INPUT rules apply to them. */
  publishedPortsObeyHostFirewall?: boolean;
  events: EventBus;
  logger: Logger;
}

/** A container on a network, as `network inspect` lists it. */
export interface NetworkMember {
  containerId: string;
  name: string;
  endpointId: string;
  mac: string;
  ipv4: string;
}

const LIST_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'];
const PRUNE_FILTERS = ['label', 'label!', 'until'];

export class NetworkService {
  readonly attacher: ContainerAttacher;
  private containers: ContainerAccess | undefined;
  /** Creates and removals one at a time: names and subnets are checked against the others. */
  private readonly changes = new SerialExecutor();

  private constructor(
    private readonly store: NetworkStore,
    private readonly ipam: Ipam,
    private readonly options: NetworkServiceOptions,
    sandboxes: SandboxStore,
  ) {
    const netavark = new Netavark({ binary: options.binaries.netavark, aardvark: options.binaries.aardvark, configDir: join(options.execRoot, 'netavark') });
    this.attacher = new ContainerAttacher({
      store,
      ipam,
      sandboxes,
      plumbing: new BridgePlumbing(netavark),
      ports: new PortReservations(options.publishedPortsObeyHostFirewall ?? false),
      logger: options.logger,
      containers: () => this.access(),
      publish: (action, networkId, containerId) => {
        const network = store.get(networkId);
        if (network) this.publish(action, network, { container: containerId });
      },
    });
  }

  static async open(options: NetworkServiceOptions): Promise<NetworkService> {
    const store = await NetworkStore.open(join(options.dataRoot, 'networks'));
    await mkdir(join(options.execRoot, 'netavark'), { recursive: true, mode: 0o700 });
    const sandboxes = await SandboxStore.open(join(options.execRoot, 'sandboxes'));
    const service = new NetworkService(store, new Ipam(), options, sandboxes);
    await service.predefine();
    await service.attacher.load();
    return service;
  }

  private async predefine(): Promise<void> {
    const { store } = this;
    const previous = store.byName('bridge');
    const others = store.all().filter((n) => n.Name !== 'bridge');
    const bridge = defaultBridgeNetwork(this.options.bridge, previous?.Id ?? store.newId(), previous, await hostRoutes(), others);
    if (JSON.stringify(bridge) !== JSON.stringify(previous)) await store.save(bridge);
    if (!store.byName('host')) await store.save(hostNetwork(store.newId()));
    if (!store.byName('none')) await store.save(noneNetwork(store.newId()));
  }

  /** The container engine, once it exists (it is made after this service, which it uses). */
  bindContainers(access: ContainerAccess): void {
    this.containers = access;
  }

  private access(): ContainerAccess {
    if (!this.containers) throw new Error('networks: containers not bound yet');
    return this.containers;
  }

  async create(request: NetworkCreateRequest): Promise<NetworkRecord> {
    return this.changes.run('networks', async () => {
      const network = newNetwork(request, this.store.newId(), { existing: this.store.all(), hostRoutes: await hostRoutes(), pools: this.options.bridge.pools });
      await this.store.save(network);
      this.publish('create', network);
      return network;
    });
  }

  list(filters: Filters = {}): NetworkRecord[] {
    checkFilters(filters, LIST_FILTERS);
    const values = (key: string) => filterValues(filters, key);
    for (const type of values('type')) if (type !== 'custom' && type !== 'builtin') throw invalidParameter(`invalid filter: 'type'='${type}'`);
    const dangling = values('dangling');
    for (const value of dangling) if (!['true', 'false', '1', '0'].includes(value)) throw invalidParameter(`invalid filter 'dangling=${value}'`);
    return this.store.all().filter((n) => {
      if (values('driver').length && !values('driver').includes(n.Driver)) return false;
      if (values('id').length && !values('id').some((id) => n.Id.startsWith(id))) return false;
      if (values('name').length && !values('name').some((name) => n.Name.includes(name))) return false;
      if (values('scope').length && !values('scope').includes(n.Scope)) return false;
      if (values('type').length && !values('type').includes(isPredefined(n.Name) ? 'builtin' : 'custom')) return false;
      if (!labelsMatch(n.Labels, values('label'))) return false;
      if (dangling.length) {
        const wantDangling = dangling.includes('true') || dangling.includes('1');
        const isDangling = !isPredefined(n.Name) && !this.isUsed(n);
        if (wantDangling !== isDangling) return false;
      }
      return true;
    });
  }

  inspect(term: string): NetworkRecord {
    return this.store.resolve(term);
  }

  /** The running containers on a network (`network inspect`'s Containers). */
  members(network: NetworkRecord): NetworkMember[] {
    const containers = this.access();
    return this.attacher.attachmentsOn(network.Id).flatMap(({ containerId, attachment }) => {
      const record = containers.get(containerId);
      if (!record) return [];
      const endpoint = record.networks?.[network.Name];
      return [{ containerId, name: record.name.slice(1), endpointId: endpoint?.EndpointID ?? '', mac: attachment.mac, ipv4: `${attachment.ip}/${attachment.prefix}` }];
    });
  }

  /** Whether a container is connected to it (running or not). */
  private isUsed(network: NetworkRecord): boolean {
    return this.attacher.attachmentsOn(network.Id).length > 0 || this.access().all().some((c) => Object.values(c.networks ?? {}).some((e) => e.NetworkID === network.Id));
  }

  async remove(term: string): Promise<void> {
    await this.changes.run('networks', async () => {
      const network = this.store.resolve(term);
      if (isPredefined(network.Name)) throw forbidden(`${network.Name} is a pre-defined network and cannot be removed`);
      await this.settleEnded(network);
      if (this.attacher.attachmentsOn(network.Id).length > 0) throw networkInUse(network.Name, network.Id);
      await this.store.delete(network);
      this.ipam.forget(network.Id);
      this.publish('destroy', network);
    });
  }

  /**
   * Waits for the teardowns on their way of containers on it that no longer run (`run --rm` is
   * answered once the record went, before its network is undone): they are not active endpoints.
   */
  private async settleEnded(network: NetworkRecord): Promise<void> {
    const containers = this.access();
    const ended = this.attacher.attachmentsOn(network.Id).filter(({ containerId }) => containers.get(containerId)?.state.Running !== true);
    await Promise.all(ended.map(({ containerId }) => containers.settled(containerId)));
  }

  /** `network prune`: user-defined networks no container is connected to. */
  async prune(filters: Filters = {}): Promise<string[]> {
    checkFilters(filters, PRUNE_FILTERS);
    const until = filterValues(filters, 'until').map((u) => (/^\d+(\.\d+)?$/.test(u) ? Number(u) * 1000 : Date.parse(u)));
    const removed: string[] = [];
    for (const network of this.store.all()) {
      if (isPredefined(network.Name) || this.isUsed(network)) continue;
      if (!labelsMatch(network.Labels, filterValues(filters, 'label'))) continue;
      if (filterValues(filters, 'label!').length && filterValues(filters, 'label!').some((l) => labelsMatch(network.Labels, [l]))) continue;
      if (until.some((u) => Date.parse(network.Created) >= u)) continue;
      await this.remove(network.Id).then(
        () => removed.push(network.Name),
        (err) => this.options.logger.warn('prune: network not removed', { network: network.Name, err }),
      );
    }
    return removed;
  }

  async connect(term: string, containerTerm: string, request: Partial<EndpointRequest>): Promise<void> {
    const containers = this.access();
    const network = this.store.resolve(term);
    const record = containers.resolve(containerTerm);
    await containers.exclusive(record, async () => {
      const mode = record.hostConfig.NetworkMode;
      if (mode === 'host' || mode === 'none' || mode.startsWith('container:') || network.Driver !== 'bridge') {
        throw forbidden(`container sharing network namespace with another container or host cannot be connected to any other network`);
      }
      if (Object.values(record.networks ?? {}).some((e) => e.NetworkID === network.Id)) {
        throw forbidden(`endpoint with name ${record.name.slice(1)} already exists in network ${network.Name}`);
      }
      if (record.state.Running && this.attacher.isAttached(record.id)) {
        await this.attacher.connectRunning(record, network, request);
        this.publish('connect', network, { container: record.id });
      } else {
        record.networks = { ...(record.networks ?? {}), [network.Name]: endpointFor(network, request) };
      }
      await containers.save(record);
    });
  }

  async disconnect(term: string, containerTerm: string, force: boolean): Promise<void> {
    const containers = this.access();
    const network = this.store.find(term);
    const record = containers.resolve(containerTerm);
    if (!network) {
      if (force) return;
      this.store.resolve(term);
    }
    await containers.exclusive(record, async () => {
      const name = Object.entries(record.networks ?? {}).find(([, e]) => e.NetworkID === network!.Id)?.[0];
      if (!name) throw forbidden(`container ${record.id} is not connected to network ${network!.Name}`);
      const running = record.state.Running && this.attacher.isAttached(record.id);
      if (running) await this.attacher.disconnectRunning(record, network!);
      const { [name]: _, ...rest } = record.networks!;
      record.networks = rest;
      await containers.save(record);
      if (running) this.publish('disconnect', network!, { container: record.id });
    });
  }

  private publish(action: 'create' | 'destroy' | 'connect' | 'disconnect', network: NetworkRecord, details: Record<string, string> = {}): void {
    this.options.events.publish('network', action, network.Id, { ...details, name: network.Name, type: network.Driver });
  }

  close(): void {
    this.attacher.close();
  }
}
