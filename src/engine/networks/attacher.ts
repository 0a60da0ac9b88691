/**
 * A container's network, run by run: the sandbox (namespace + attachments + ports) made before
 * the runtime creates the container and undone after it is deleted, and networks connected or
 * disconnected while it runs. Every sandbox is recorded (sandboxes.ts) before anything of it
 * exists, so what a crash leaves is undone at the next start. One job at a time per container.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { conflict, forbidden, wrap } from '../../common/errors.js';
import { networkNotFound } from './errors.js';
import { newId, shortId } from '../../common/ids.js';
import type { Logger } from '../../common/logger.js';
import type { ContainerRecord, StoredEndpoint } from '../containers/model.js';
import type { ContainerNetworking, RunNetwork } from '../containers/networking.js';
import type { EndpointRequest } from '../containers/spec.js';
import { hostsContent, resolvConfContent, writeRunEtcFiles, type HostsEntry } from '../containers/etc-files.js';
import { SerialExecutor } from '../containers/serial-executor.js';
import type { ContainerAccess } from './container-access.js';
import { CONTAINER_MODE, emptyEndpoint, endpointFor, planEndpoints } from './endpoint-plan.js';
import type { Ipam } from './ipam.js';
import { formatIp, macOf, parseCidr, size } from './ipv4.js';
import { bridgeNameOf, ICC_OPTION, MTU_OPTION, type NetworkRecord } from './model.js';
import { allowLink, isolateBridge, removeLink, unisolateBridge } from './icc-rules.js';
import { linkEnv, linkHosts, resolveLinks, type ResolvedLink } from './links.js';
import type { NetavarkOptions } from './netavark.js';
import { autoconfOff, type BridgePlumbing, type Plugged } from './bridge-plumbing.js';
import type { NetworkStore } from './network-store.js';
import { publishRequests, type PortBindingWire, type PortReservations } from './port-bindings.js';
import { makeNetns, netnsPath, newSandbox, removeNetns, type Attachment, type Sandbox, type SandboxStore } from './sandboxes.js';

export interface AttacherOptions {
  store: NetworkStore;
  ipam: Ipam;
  sandboxes: SandboxStore;
  plumbing: BridgePlumbing;
  ports: PortReservations;
  logger: Logger;
  containers: () => ContainerAccess;
  /** Docker's network events of a run: `connect` when its endpoint is up, `disconnect` when it is gone. */
  publish: (action: 'connect' | 'disconnect', networkId: string, containerId: string) => void;
}

/** The default bridge's keeper (see keepBridgeUp): its sandbox has an id of a container's form, which no container has. */
export const KEEPER_NAME = 'berth-bridge-keeper';
const KEEPER_ID = createHash('sha256').update(KEEPER_NAME).digest('hex');

const text = (value: unknown): string[] => (Array.isArray(value) ? (value as string[]) : []);

export class ContainerAttacher implements ContainerNetworking {
  private readonly live = new Map<string, Sandbox>();
  /** The sandboxes found at daemon start, until the sweep has dealt with them. */
  private found: Sandbox[] = [];
  private readonly jobs = new SerialExecutor();
  private closing = false;

  constructor(private readonly options: AttacherOptions) {}

  plan(mode: string, endpoints: readonly EndpointRequest[], record: Pick<ContainerRecord, 'hostConfig' | 'config'>, containerMac?: string): Record<string, StoredEndpoint> {
    return planEndpoints(mode, endpoints, record, (term) => this.options.store.find(term), (id) => this.options.containers().resolve(id), containerMac);
  }

  /** The live sandboxes found at daemon start: their addresses and ports are held again. */
  async load(): Promise<void> {
    for (const sandbox of await this.options.sandboxes.all()) {
      this.found.push(sandbox);
      this.live.set(sandbox.containerId, sandbox);
      for (const attachment of sandbox.attachments) {
        const network = this.options.store.get(attachment.networkId);
        if (network) this.options.ipam.restore(network, attachment.ip);
      }
    }
  }

  /**
   * After the containers are reconciled: the sandboxes found at start whose containers no longer
   * run are undone, the others' ports held again. Only those: a container restarted at daemon
   * start may already be setting up a sandbox of its new run, which is not running yet.
   */
  async sweep(isLive: (id: string) => boolean): Promise<void> {
    for (const sandbox of this.found.splice(0)) {
      const id = sandbox.containerId;
      if (this.live.get(id) !== sandbox) continue; // undone already (and maybe replaced by a new run's)
      if (isLive(id)) await this.options.ports.restore(id, sandbox.ports, sandbox.attachments[0]?.ip ?? '');
      else await this.undoRun(id, sandbox);
    }
  }

  /** The live attachments on a network, by container id. */
  attachmentsOn(networkId: string): Array<{ containerId: string; attachment: Attachment }> {
    return [...this.live.values()].filter((s) => s.containerId !== KEEPER_ID).flatMap((s) => s.attachments.filter((a) => a.networkId === networkId).map((attachment) => ({ containerId: s.containerId, attachment })));
  }

  attach(record: ContainerRecord): Promise<RunNetwork> {
    return this.jobs.run(record.id, async () => {
      const mode = record.hostConfig.NetworkMode;
      if (mode === 'host') {
        const [hosts, resolv] = await Promise.all([readFile('/etc/hosts', 'utf8').catch(() => hostsContent([])), readFile('/etc/resolv.conf', 'utf8').catch(() => '')]);
        await writeRunEtcFiles(this.paths(record), hosts, resolv);
        return { kind: 'host' };
      }
      if (mode.startsWith(CONTAINER_MODE)) return this.joinPeer(record, mode.slice(CONTAINER_MODE.length));
      if (mode === 'none') {
        await writeRunEtcFiles(this.paths(record), hostsContent(this.extraHosts(record, undefined)), await this.resolvConf(record, []));
        return { kind: 'private' };
      }
      const sandbox = newSandbox(record.id);
      const links = resolveLinks(record, (id) => this.options.containers().resolve(id));
      const started = performance.now();
      let sysctls: Record<string, string>;
      try {
        sysctls = await this.setUp(record, sandbox, links);
        this.options.logger.debug('network set up', { id: record.id, ms: Math.round(performance.now() - started), attachments: sandbox.attachments.length, ports: sandbox.ports.length });
        const bridge = this.options.store.byName('bridge');
        if (bridge && !this.live.has(KEEPER_ID) && sandbox.attachments.some((a) => a.networkId === bridge.Id)) void this.keepBridgeUp(bridge);
      } catch (err) {
        await this.undo(sandbox);
        this.clearLive(record);
        throw wrap(err, 'failed to set up container networking');
      }
      return { kind: 'private', path: netnsPath(sandbox), env: linkEnv(record, links), sysctls };
    });
  }

  private paths(record: ContainerRecord): { hosts: string; resolvConf: string } {
    return { hosts: record.hostsPath, resolvConf: record.resolvConfPath };
  }

  private async joinPeer(record: ContainerRecord, reference: string): Promise<RunNetwork> {
    const peer = this.options.containers().resolve(reference);
    if (peer.id === record.id) throw forbidden('cannot join own network');
    if (!peer.state.Running || peer.state.Pid <= 0) throw conflict(`cannot join network namespace of a non running container: ${reference}`);
    const [hosts, resolv] = await Promise.all([readFile(peer.hostsPath, 'utf8'), readFile(peer.resolvConfPath, 'utf8')]);
    await writeRunEtcFiles(this.paths(record), hosts, resolv);
    if (peer.hostConfig.NetworkMode === 'host') return { kind: 'host' };
    return { kind: 'joined', path: `/proc/${peer.state.Pid}/ns/net` };
  }

  /** Returns the sysctls the runtime is to set in the namespace. */
  private async setUp(record: ContainerRecord, sandbox: Sandbox, links: readonly ResolvedLink[]): Promise<Record<string, string>> {
    const { store, sandboxes, ports } = this.options;
    const entries = Object.entries(record.networks ?? {});
    // Addresses first, recorded with the sandbox before any of it exists.
    for (const [name, endpoint] of entries) {
      const network = store.get(endpoint.NetworkID) ?? store.find(name);
      if (!network) throw networkNotFound(name);
      if (network.Driver !== 'bridge') continue;
      sandbox.attachments.push(this.newAttachment(record, network, endpoint, sandbox.attachments.length));
    }
    const requests = publishRequests(record.hostConfig.PortBindings as Record<string, PortBindingWire[]> | null, record.config.ExposedPorts, record.hostConfig.PublishAllPorts === true);
    const primary = sandbox.attachments[0];
    if (requests.length > 0 && primary) {
      sandbox.ports = await ports.reserve(record.id, record.name.slice(1), requests, primary.ip);
      // Relayed by berthd's own sockets when published ports obey the host firewall: no DNAT then.
      if (!ports.relay) primary.options.port_mappings = sandbox.ports.map((p) => ({ host_ip: p.hostIp === '0.0.0.0' ? '' : p.hostIp, host_port: p.hostPort, container_port: p.containerPort, protocol: p.protocol, range: 1 }));
    }
    this.live.set(record.id, sandbox);
    await sandboxes.save(sandbox);
    // The first attachment's plumbing makes the namespace, in the same run of `ip` where it can.
    const [first] = sandbox.attachments;
    if (!first) await makeNetns(sandbox);
    const sysctls: Record<string, string> = {};
    for (const attachment of sandbox.attachments) {
      if ((await this.plumb(sandbox, attachment, { beforeRun: true, makeNetns: attachment === first })) === 'iproute2') Object.assign(sysctls, await autoconfOff(attachment.interfaceName));
    }
    const bridge = sandbox.attachments.find((a) => a.networkId === store.byName('bridge')?.Id);
    if (bridge && links.length > 0) {
      sandbox.links = links.map((l) => ({ bridge: bridgeNameOf(store.get(bridge.networkId)!), a: bridge.ip, b: l.address }));
      await sandboxes.save(sandbox);
      for (const link of sandbox.links) await allowLink(link.bridge, link.a, link.b);
    }
    record.publishedPorts = sandbox.ports;
    for (const attachment of sandbox.attachments) this.showLive(record, attachment);
    await this.writeEtcFiles(record, sandbox, links);
    for (const attachment of sandbox.attachments) this.options.publish('connect', attachment.networkId, record.id);
    return sysctls;
  }

  /**
   * One attachment plugged in, then ICC off if so set. `beforeRun`: the runtime has yet to start
   * the container and can set the interface's sysctls, so iproute2 may plug it in. `makeNetns`:
   * the namespace is made first.
   */
  private async plumb(sandbox: Sandbox, attachment: Attachment, how: { beforeRun: boolean; makeNetns: boolean }): Promise<Plugged> {
    const network = this.options.store.get(attachment.networkId)!;
    const plugged = await this.options.plumbing.setup(netnsPath(sandbox), attachment, { iproute2: how.beforeRun, makeNetns: how.makeNetns });
    if (!iccOn(network)) await isolateBridge(bridgeNameOf(network));
    return plugged;
  }

  /** After an attachment is torn down: a bridge with ICC off that nothing uses any more loses its rule. */
  private async unplumb(networkId: string): Promise<void> {
    const network = this.options.store.get(networkId);
    if (network && !iccOn(network) && this.attachmentsOn(networkId).length === 0) await unisolateBridge(bridgeNameOf(network));
  }

  private newAttachment(record: Pick<ContainerRecord, 'id' | 'name'>, network: NetworkRecord, endpoint: StoredEndpoint, index: number): Attachment {
    const { ipam } = this.options;
    const ip = endpoint.IPAMConfig?.IPv4Address ? ipam.claim(network, endpoint.IPAMConfig.IPv4Address) : ipam.allocate(network);
    const address = formatIp(ip);
    const pool = network.IPAM.Config[0];
    const userDefined = network.Name !== 'bridge';
    const name = record.name.slice(1);
    const aliases = userDefined ? [...new Set([...(endpoint.Aliases ?? []), shortId(record.id)])] : [];
    const interfaceName = `eth${index}`;
    const mac = endpoint.DesiredMacAddress || macOf(ip);
    const options: NetavarkOptions = {
      container_id: record.id,
      container_name: name,
      networks: { [network.Id]: { interface_name: interfaceName, static_ips: [address], static_mac: mac, aliases } },
      network_info: {
        [network.Id]: {
          // netavark names its firewall chains after the network's name: the id keeps two daemons' networks apart.
          name: network.Id,
          id: network.Id,
          driver: 'bridge',
          network_interface: bridgeNameOf(network),
          subnets: [{ subnet: pool.Subnet, gateway: pool.Gateway }],
          ipv6_enabled: false,
          internal: network.Internal,
          dns_enabled: userDefined,
          options: { isolate: 'true', ...(network.Options[MTU_OPTION] && { mtu: network.Options[MTU_OPTION] }), ...(index > 0 && { metric: String(100 + index) }) },
        },
      },
    };
    const linkLocal = endpoint.IPAMConfig?.LinkLocalIPs ?? [];
    return { networkId: network.Id, interfaceName, ip: address, prefix: ipam.prefixOf(network), gateway: pool.Gateway, mac, aliases: userDefined ? [name, ...aliases] : [], linkLocal, options };
  }

  /** The record's endpoint on a network as inspect shows it while the container runs. */
  private showLive(record: ContainerRecord, attachment: Attachment): void {
    const network = this.options.store.get(attachment.networkId);
    if (!network || !record.networks) return;
    const current = record.networks[network.Name] ?? emptyEndpoint(network.Id);
    record.networks[network.Name] = {
      ...current,
      NetworkID: network.Id,
      EndpointID: current.EndpointID || newId(),
      Gateway: attachment.gateway,
      IPAddress: attachment.ip,
      IPPrefixLen: attachment.prefix,
      MacAddress: attachment.mac,
      DNSNames: attachment.aliases.length > 0 ? attachment.aliases : null,
    };
  }

  private clearLive(record: ContainerRecord | undefined): void {
    if (!record) return;
    record.publishedPorts = [];
    for (const [name, endpoint] of Object.entries(record.networks ?? {})) {
      record.networks![name] = { ...endpoint, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: endpoint.DesiredMacAddress ?? '', DNSNames: null };
    }
  }

  private extraHosts(record: ContainerRecord, sandbox: Sandbox | undefined): HostsEntry[] {
    const gateway = sandbox?.attachments[0]?.gateway ?? this.options.store.byName('bridge')?.IPAM.Config[0]?.Gateway ?? '';
    return text(record.hostConfig.ExtraHosts).map((entry) => {
      const at = entry.search(/[:=]/);
      const address = entry.slice(at + 1);
      return { ip: address === 'host-gateway' ? gateway : address, names: [entry.slice(0, at)] };
    });
  }

  private async resolvConf(record: ContainerRecord, networkServers: string[]): Promise<string> {
    const host = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    return resolvConfContent(host, { servers: text(record.hostConfig.Dns), search: text(record.hostConfig.DnsSearch), options: text(record.hostConfig.DnsOptions) }, networkServers);
  }

  /** /etc/hosts of a container: --add-host entries, links, then its own address on each network. */
  private hosts(record: ContainerRecord, sandbox: Sandbox, resolved: readonly ResolvedLink[]): string {
    const { Hostname: hostname, Domainname: domain } = record.config;
    const own = sandbox.attachments.map((a) => ({ ip: a.ip, names: domain ? [`${hostname}.${domain}`, hostname] : [hostname] }));
    return hostsContent([...this.extraHosts(record, sandbox), ...linkHosts(resolved), ...own]);
  }

  private async writeEtcFiles(record: ContainerRecord, sandbox: Sandbox, resolved: readonly ResolvedLink[]): Promise<void> {
    const servers = sandbox.attachments.filter((a) => a.aliases.length > 0).map((a) => a.gateway);
    await writeRunEtcFiles(this.paths(record), this.hosts(record, sandbox, resolved), await this.resolvConf(record, [...new Set(servers)]));
  }

  /**
   * After a connect or disconnect of a running container, its /etc/hosts lists the addresses it
   * has now (as moby's sandbox does). Written in place: the container's bind mount holds the
   * file's inode, so a replacement by rename would not be seen inside.
   */
  private async rewriteHosts(record: ContainerRecord, sandbox: Sandbox): Promise<void> {
    const links = resolveLinks(record, (id) => this.options.containers().resolve(id));
    await writeFile(this.paths(record).hosts, this.hosts(record, sandbox, links)).catch((err) => this.options.logger.warn('updating /etc/hosts', { id: record.id, err }));
  }

  detach(containerId: string): Promise<void> {
    return this.undoRun(containerId);
  }

  /** The container's sandbox undone; `only`: if it is still that one. */
  private undoRun(containerId: string, only?: Sandbox): Promise<void> {
    return this.jobs.run(containerId, async () => {
      const sandbox = this.live.get(containerId);
      if (only && sandbox !== only) return;
      const started = performance.now();
      if (sandbox) await this.undo(sandbox);
      if (sandbox) this.options.logger.debug('network undone', { id: containerId, ms: Math.round(performance.now() - started) });
      this.clearLive(this.options.containers().get(containerId));
    });
  }

  /** Tears down every attachment (last first), the namespace, the ports, the addresses, then the record. Best effort throughout. */
  private async undo(sandbox: Sandbox): Promise<void> {
    const { plumbing, ports, ipam, sandboxes, logger } = this.options;
    for (const link of sandbox.links ?? []) await removeLink(link.bridge, link.a, link.b);
    for (const attachment of [...sandbox.attachments].reverse()) {
      await plumbing.teardown(netnsPath(sandbox), attachment).catch((err) => logger.debug('network teardown', { id: sandbox.containerId, err }));
      ipam.release(attachment.networkId, attachment.ip);
      if (sandbox.containerId !== KEEPER_ID) this.options.publish('disconnect', attachment.networkId, sandbox.containerId);
    }
    await removeNetns(sandbox);
    ports.release(sandbox.containerId);
    await sandboxes.remove(sandbox.containerId);
    this.live.delete(sandbox.containerId);
    for (const attachment of sandbox.attachments) await this.unplumb(attachment.networkId);
  }

  /** `network connect` of a running container: a new interface in its namespace. */
  connectRunning(record: ContainerRecord, network: NetworkRecord, request: Partial<EndpointRequest>): Promise<void> {
    return this.jobs.run(record.id, async () => {
      const sandbox = this.live.get(record.id);
      if (!sandbox) throw forbidden(`container ${record.id} has no network of its own to connect (network mode ${record.hostConfig.NetworkMode})`);
      const endpoint = endpointFor(network, request);
      const used = new Set(sandbox.attachments.map((a) => a.interfaceName));
      let index = 0;
      while (used.has(`eth${index}`)) index++;
      const attachment = this.newAttachment(record, network, endpoint, index);
      sandbox.attachments.push(attachment);
      await this.options.sandboxes.save(sandbox);
      try {
        await this.plumb(sandbox, attachment, { beforeRun: false, makeNetns: false });
      } catch (err) {
        await this.options.plumbing.teardown(netnsPath(sandbox), attachment).catch(() => {});
        this.options.ipam.release(network.Id, attachment.ip);
        sandbox.attachments.pop();
        await this.options.sandboxes.save(sandbox);
        throw wrap(err, 'failed to set up container networking');
      }
      record.networks = { ...(record.networks ?? {}), [network.Name]: endpoint };
      this.showLive(record, attachment);
      await this.rewriteHosts(record, sandbox);
    });
  }

  /** `network disconnect` of a running container. */
  disconnectRunning(record: ContainerRecord, network: NetworkRecord): Promise<void> {
    return this.jobs.run(record.id, async () => {
      const sandbox = this.live.get(record.id);
      const attachment = sandbox?.attachments.find((a) => a.networkId === network.Id);
      if (sandbox && attachment) {
        await this.options.plumbing.teardown(netnsPath(sandbox), attachment).catch((err) => this.options.logger.warn('network teardown', { id: record.id, err }));
        this.options.ipam.release(network.Id, attachment.ip);
        sandbox.attachments = sandbox.attachments.filter((a) => a !== attachment);
        await this.options.sandboxes.save(sandbox);
        await this.unplumb(network.Id);
        await this.rewriteHosts(record, sandbox);
      }
    });
  }

  /**
   * The default bridge stays up while berthd runs, as Docker's docker0 does: a keeper (a namespace
   * of berthd's own, with an address on the bridge and nothing else) holds a port of it, so a
   * container that finds the bridge empty neither makes it nor, when it ends, removes it: each
   * saves netavark's full set-up and teardown (some 60 and 165 ms here). The keeper is a sandbox
   * like a container's: at daemon start the sweep undoes it (no container of that id runs); at
   * shutdown `releaseBridge` undoes it unless containers still use the bridge (they keep running).
   */
  private keepBridgeUp(network: NetworkRecord): Promise<void> {
    return this.jobs.run(KEEPER_ID, async () => {
      if (this.live.has(KEEPER_ID) || this.closing) return;
      const sandbox = newSandbox(KEEPER_ID);
      try {
        sandbox.attachments.push(this.keeperAttachment(network));
        this.live.set(KEEPER_ID, sandbox);
        await this.options.sandboxes.save(sandbox);
        await this.plumb(sandbox, sandbox.attachments[0]!, { beforeRun: true, makeNetns: true });
      } catch (err) {
        this.options.logger.warn('keeping the default bridge up', { err });
        await this.undo(sandbox);
      }
    });
  }

  /**
   * The keeper's address: the subnet's last one, so that containers are numbered from .2 as on
   * Docker's docker0 (the next free one when a container holds it already).
   */
  private keeperAttachment(network: NetworkRecord): Attachment {
    const keeper = { id: KEEPER_ID, name: `/${KEEPER_NAME}` };
    const subnet = parseCidr(network.IPAM.Config[0]?.Subnet ?? '');
    const last = { ...emptyEndpoint(network.Id), IPAMConfig: { IPv4Address: formatIp(subnet.base + size(subnet) - 2) } };
    try {
      return this.newAttachment(keeper, network, last, 0);
    } catch {
      return this.newAttachment(keeper, network, emptyEndpoint(network.Id), 0);
    }
  }

  /** At shutdown: the default bridge's keeper is undone (and with it the bridge) unless containers still use the bridge. */
  releaseBridge(): Promise<void> {
    this.closing = true;
    return this.jobs.run(KEEPER_ID, async () => {
      const keeper = this.live.get(KEEPER_ID);
      if (!keeper || keeper.attachments.some((a) => this.attachmentsOn(a.networkId).length > 0)) return;
      await this.undo(keeper);
    });
  }

  isAttached(containerId: string): boolean {
    return this.live.has(containerId);
  }

  close(): void {
    this.options.ports.close();
  }
}

/** Whether containers on the network may talk to each other (the ICC option, true unless "false"). */
function iccOn(network: NetworkRecord): boolean {
  return !['false', '0', 'f', 'FALSE', 'False'].includes(network.Options[ICC_OPTION] ?? 'true');
}

