/**
 * The endpoints a container asks for at create (or connect), checked with moby's messages: the
 * mode names an existing network, --ip and --network-alias only on user-defined networks, the
 * container: and host modes take no ports, DNS or network settings of their own.
 */
import { conflict, invalidParameter } from '../../common/errors.js';
import type { ContainerRecord, StoredEndpoint } from '../containers/model.js';
import type { EndpointRequest } from '../containers/spec.js';
import type { EndpointSettings } from '../../wire/containers.js';
import { isIP } from 'node:net';
import { parseMac } from '../../common/mac-address.js';
import { parseIp } from './ipv4.js';
import type { NetworkRecord } from './model.js';
import { publishRequests, type PortBindingWire } from './port-bindings.js';

export const CONTAINER_MODE = 'container:';

/** "default" is the default bridge, as moby's NetworkMode.NetworkName. */
export function networkNameOfMode(mode: string): string {
  return mode === 'default' || mode === '' ? 'bridge' : mode;
}

export function emptyEndpoint(networkId: string): EndpointSettings {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

const isUserDefined = (network: NetworkRecord) => network.Driver === 'bridge' && network.Name !== 'bridge';

/** One endpoint's settings on a network, checked. */
export function endpointFor(network: NetworkRecord, request: Partial<EndpointRequest>): StoredEndpoint {
  if (request.IPv6Address) throw invalidParameter('IPv6 addresses (--ip6) are not supported yet by berthd');
  if (request.IPv4Address) {
    if (!isUserDefined(network)) throw invalidParameter('user specified IP address is supported on user defined networks only');
    if (parseIp(request.IPv4Address) === undefined) throw invalidParameter(`invalid IPv4 address: ${request.IPv4Address}`);
  }
  if (request.Aliases?.length && !isUserDefined(network)) throw invalidParameter('network-scoped alias is supported only for containers in user defined networks');
  for (const address of request.LinkLocalIPs ?? []) {
    if (!isLinkLocalCandidate(address)) throw invalidParameter(`invalid link-local IP address: ${address}`);
  }
  const mac = request.MacAddress ? parseMac(request.MacAddress) : undefined;
  if (request.MacAddress && mac === undefined) throw invalidParameter(`invalid MAC address ${request.MacAddress}`);
  return {
    ...emptyEndpoint(network.Id),
    ...(mac !== undefined && { MacAddress: mac, DesiredMacAddress: mac }),
    IPAMConfig: ipamConfigOf(request),
    Aliases: request.Aliases?.length ? [...request.Aliases] : null,
    Links: request.Links?.length ? [...request.Links] : null,
    DriverOpts: request.DriverOpts && Object.keys(request.DriverOpts).length > 0 ? { ...request.DriverOpts } : null,
  };
}

/** What moby accepts as a link-local address: any address Go's net.ParseIP reads (no zone), but not an unspecified one. */
function isLinkLocalCandidate(address: string): boolean {
  return isIP(address) !== 0 && !address.includes('%') && !address.split(/[:.]/).every((group) => /^0*$/.test(group));
}

/** The endpoint's IPAMConfig as inspect shows it: the addresses asked for, null when none was. */
function ipamConfigOf(request: Partial<EndpointRequest>): EndpointSettings['IPAMConfig'] {
  const linkLocal = request.LinkLocalIPs?.length ? { LinkLocalIPs: [...request.LinkLocalIPs] } : {};
  return request.IPv4Address || linkLocal.LinkLocalIPs ? { ...(request.IPv4Address && { IPv4Address: request.IPv4Address }), ...linkLocal } : null;
}

const given = (value: unknown) => value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0) && !(typeof value === 'object' && Object.keys(value as object).length === 0);

/** moby's validateNetContainerMode / validateNetMode: what a container sharing another's (or the host's) network cannot set. */
function checkSharedMode(mode: string, hostConfig: ContainerRecord['hostConfig'], config: ContainerRecord['config']): void {
  const joined = mode.startsWith(CONTAINER_MODE);
  if (joined && config.Hostname && config.Hostname !== '') throw invalidParameter('conflicting options: hostname and the network mode');
  if (joined && given(hostConfig.Links)) throw invalidParameter('conflicting options: container type network can\'t be used with links. This would result in undefined behavior');
  if (joined && (given(hostConfig.Dns) || given(hostConfig.DnsSearch) || given(hostConfig.DnsOptions))) throw invalidParameter('conflicting options: dns and the network mode');
  if (joined && given(hostConfig.ExtraHosts)) throw invalidParameter('conflicting options: custom host-to-IP mapping and the network mode');
  if (joined && (given(hostConfig.PortBindings) || hostConfig.PublishAllPorts === true)) throw invalidParameter('conflicting options: port publishing and the container type network mode');
  if (joined && given(config.ExposedPorts)) throw invalidParameter('conflicting options: port exposing and the container type network mode');
}

function checkHostSettings(hostConfig: ContainerRecord['hostConfig']): void {
  for (const server of (hostConfig.Dns as string[] | null) ?? []) {
    if (parseIp(server) === undefined && !server.includes(':')) throw invalidParameter(`${server} is not an ip address`);
  }
  for (const entry of (hostConfig.ExtraHosts as string[] | null) ?? []) {
    const at = entry.search(/[:=]/);
    const address = at < 0 ? '' : entry.slice(at + 1);
    if (at <= 0 || (address !== 'host-gateway' && parseIp(address) === undefined && !address.includes(':'))) {
      throw invalidParameter(`invalid IP address in add-host: "${address}"`);
    }
  }
  publishRequests(hostConfig.PortBindings as Record<string, PortBindingWire[] | null> | null, null, false);
}

/**
 * The endpoints to record for a create: the mode's network first, then the other networks named
 * in EndpointsConfig (API 1.44+ connects to several at create). As moby, a network that does not
 * exist is not an error yet: the start fails with Docker's 404 (the docker CLI takes a 404 at
 * create for a missing image and would try to pull it). `find` resolves a network name or id;
 * `peers` a container for container:<name>.
 */
export function planEndpoints(
  mode: string,
  endpoints: readonly EndpointRequest[],
  record: Pick<ContainerRecord, 'hostConfig' | 'config'>,
  find: (term: string) => NetworkRecord | undefined,
  peers: (idOrName: string) => ContainerRecord,
  /** Config.MacAddress, the container-wide MAC address of clients older than API 1.44. */
  containerMac?: string,
): Record<string, StoredEndpoint> {
  checkSharedMode(mode, record.hostConfig, record.config);
  const macAsked = Boolean(containerMac) || endpoints.some((e) => e.MacAddress);
  if (macAsked && (mode.startsWith(CONTAINER_MODE) || mode === 'host')) throw invalidParameter('conflicting options: mac-address and the network mode');
  checkHostSettings(record.hostConfig);
  if (mode.startsWith(CONTAINER_MODE)) {
    peers(mode.slice(CONTAINER_MODE.length)); // Docker's 404 for a container that does not exist
    if (endpoints.some((e) => e.network !== mode)) throw invalidParameter('Container cannot be connected to network endpoints');
    return {};
  }
  const modeName = networkNameOfMode(mode);
  const primary = find(modeName);
  const isPrimary = (e: EndpointRequest) => e.network === mode || e.network === modeName || (primary !== undefined && (e.network === primary.Name || e.network === primary.Id));
  const primaryRequest = endpoints.find(isPrimary);
  const forPrimary = withContainerMac(primaryRequest, modeName, containerMac);
  const shared = primary?.Driver === 'host' || primary?.Driver === 'null';
  if (shared && endpoints.some((e) => e !== primaryRequest)) throw invalidParameter(`Container cannot be connected to network endpoints: ${primary!.Name}`);
  const result: Record<string, StoredEndpoint> = {};
  const add = (name: string, network: NetworkRecord | undefined, request: Partial<EndpointRequest>) => {
    if (result[network?.Name ?? name]) throw conflict(`endpoint with name already exists in network ${network?.Name ?? name}`);
    if (network && network.Driver !== 'bridge' && network !== primary) throw invalidParameter(`Container cannot be connected to network endpoints: ${network.Name}`);
    result[network?.Name ?? name] = network ? endpointFor(network, request) : { ...emptyEndpoint(''), Aliases: request.Aliases?.length ? [...request.Aliases] : null, IPAMConfig: ipamConfigOf(request) };
  };
  add(modeName, primary, forPrimary ?? {});
  for (const request of endpoints) if (request !== primaryRequest) add(request.network, find(request.network), request);
  return result;
}

/** moby's handleMACAddressBC: the container-wide MAC address is the main network's endpoint's. */
function withContainerMac(request: EndpointRequest | undefined, network: string, containerMac: string | undefined): EndpointRequest | undefined {
  if (!containerMac) return request;
  if (request?.MacAddress && parseMac(request.MacAddress) !== parseMac(containerMac)) {
    throw invalidParameter('the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty');
  }
  return { network, settingsGiven: [], ...request, MacAddress: containerMac };
}
