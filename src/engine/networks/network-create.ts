/**
 * `POST /networks/create` checked and turned into a network record, with moby's messages:
 * the name, the driver, the IPAM pools (subnet, gateway inside it, ip-range inside it, no
 * overlap with the daemon's other networks), the bridge options.
 */
import { alreadyExists, forbidden, invalidParameter, notFound } from '../../common/errors.js';
import { contains, formatCidr, formatIp, overlaps, parseCidr, parseIp, type Cidr } from './ipv4.js';
import { pickSubnet, type AddressPool } from './ipam.js';
import { BRIDGE_NAME_OPTION, ICC_OPTION, MTU_OPTION, bridgeNameOf, isPredefined, type IpamPool, type NetworkRecord } from './model.js';
import { networkRecord } from './default-bridge.js';

export interface NetworkCreateRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }>; Options?: Record<string, string> };
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string };
  Scope?: string;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const BOOLEAN_OPTIONS = [ICC_OPTION, 'com.docker.network.bridge.enable_ip_masquerade', 'com.docker.network.bridge.gateway_mode_ipv4'];

/** The settings of a network the daemon already has, against which a new one is checked. */
export interface CreateContext {
  existing: readonly NetworkRecord[];
  /** Subnets the host routes to already (its own interfaces): a new network must not shadow them. */
  hostRoutes: readonly Cidr[];
  pools: readonly AddressPool[];
}

function checkOptions(options: Record<string, string>, existing: readonly NetworkRecord[]): void {
  for (const key of BOOLEAN_OPTIONS) {
    const value = options[key];
    if (value !== undefined && !['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False'].includes(value)) {
      throw invalidParameter(`failed to parse ${key} value: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
    }
  }
  const mtu = options[MTU_OPTION];
  if (mtu !== undefined && (!/^\d+$/.test(mtu) || Number(mtu) < 68 || Number(mtu) > 65535)) {
    throw invalidParameter(`invalid MTU number: ${mtu}`);
  }
  const bridge = options[BRIDGE_NAME_OPTION];
  if (bridge !== undefined) {
    if (bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(bridge)) throw invalidParameter(`invalid bridge name: ${bridge}`);
    const user = existing.find((n) => n.Driver === 'bridge' && bridgeNameOf(n) === bridge);
    if (user) throw forbidden(`bridge name ${bridge} is already in use by network ${user.Name}`);
  }
}

function pool(given: { Subnet?: string; IPRange?: string; Gateway?: string }, context: CreateContext, taken: Cidr[]): IpamPool {
  if (!given.Subnet) {
    if (given.IPRange || given.Gateway) throw invalidParameter('invalid pool request: ip-range and gateway need a subnet');
  }
  let subnet: Cidr;
  if (given.Subnet) {
    const parsed = parseCidr(given.Subnet);
    if (parsed.prefix > 30) throw invalidParameter(`invalid subnet ${given.Subnet}: the prefix must be /30 or shorter for a bridge network`);
    subnet = { base: parsed.base, prefix: parsed.prefix };
    const clash = [...context.existing.flatMap((n) => n.IPAM.Config.map((c) => parseCidr(c.Subnet))), ...taken].find((t) => overlaps(t, subnet));
    if (clash) throw forbidden('invalid pool request: Pool overlaps with other one on this address space');
  } else {
    subnet = pickSubnet(context.pools, [...context.existing.flatMap((n) => n.IPAM.Config.map((c) => parseCidr(c.Subnet))), ...context.hostRoutes, ...taken]);
  }
  let ipRange: string | undefined;
  if (given.IPRange) {
    const range = parseCidr(given.IPRange);
    if (!contains(subnet, range.base) || range.prefix < subnet.prefix) throw invalidParameter(`invalid ip-range ${given.IPRange}: it must be inside the subnet ${formatCidr(subnet)}`);
    ipRange = formatCidr(range);
  }
  let gateway = subnet.base + 1;
  if (given.Gateway) {
    const ip = parseIp(given.Gateway);
    if (ip === undefined) throw invalidParameter(`invalid gateway address ${given.Gateway}`);
    if (!contains(subnet, ip)) throw invalidParameter(`failed to allocate gateway (${given.Gateway}): Address out of range`);
    gateway = ip;
  }
  taken.push(subnet);
  return { Subnet: formatCidr(subnet), Gateway: formatIp(gateway), ...(ipRange && { IPRange: ipRange }) };
}

/** A new bridge network's record (its id given), or moby's error. */
export function newNetwork(request: NetworkCreateRequest, id: string, context: CreateContext): NetworkRecord {
  const name = request.Name;
  if (!name) throw invalidParameter('network name must not be empty');
  if (!NAME.test(name)) throw invalidParameter(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (isPredefined(name)) throw forbidden(`operation is not permitted on predefined ${name} network `);
  if (context.existing.some((n) => n.Name === name)) throw alreadyExists(`network with name ${name} already exists`);
  const driver = request.Driver || 'bridge';
  if (driver === 'host' || driver === 'null') throw forbidden(`only one instance of "${driver}" network is allowed`);
  if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
  if (request.EnableIPv4 === false) throw invalidParameter('IPv4 cannot be disabled: berthd has IPv4 networks only');
  if (request.EnableIPv6) throw invalidParameter('IPv6 networks (--ipv6) are not supported yet by berthd');
  if (request.ConfigOnly || request.ConfigFrom?.Network) throw invalidParameter('config-only networks (--config-only, --config-from) are not supported by berthd');
  if (request.Scope && request.Scope !== 'local') throw invalidParameter(`scope ${request.Scope} is not supported by berthd: it has local networks only`);
  if (request.IPAM?.Driver && request.IPAM.Driver !== 'default') throw notFound(`plugin "${request.IPAM.Driver}" not found`);
  const options = { ...(request.Options ?? {}) };
  checkOptions(options, context.existing);
  const taken: Cidr[] = [];
  const given = request.IPAM?.Config?.length ? request.IPAM.Config : [{}];
  if (given.length > 1) throw invalidParameter('berthd supports one IPv4 subnet per network');
  const pools = given.map((g) => pool(g, context, taken));
  return networkRecord(name, id, driver, {
    IPAM: { Driver: 'default', Options: request.IPAM?.Options ?? {}, Config: pools },
    Internal: request.Internal ?? false,
    Attachable: request.Attachable ?? false,
    Options: options,
    Labels: request.Labels ?? {},
  });
}
