/**
 * The predefined networks: the default bridge (daemon settings `bridge`, `bip`, `mtu`, `icc`,
 * else a subnet from the address pools that no host route covers), `host` and `none`. Their ids
 * are kept across restarts; the default bridge takes the current settings at every start.
 */
import { readFile } from 'node:fs/promises';
import { invalidParameter } from '../../common/errors.js';
import { formatCidr, formatIp, overlaps, parseCidr, type Cidr } from './ipv4.js';
import { pickSubnet, type AddressPool } from './ipam.js';
import { BRIDGE_NAME_OPTION, HOST_BINDING_OPTION, ICC_OPTION, MASQUERADE_OPTION, MTU_OPTION, type NetworkRecord } from './model.js';

export interface BridgeSettings {
  /** The default bridge's Linux name (berth0). */
  bridge: string;
  /** Its gateway address and subnet, "10.1.0.1/24"; from the pools when unset. */
  bip?: string;
  mtu: number;
  /** Containers on the default bridge may talk to each other (daemon.json `icc`). */
  icc: boolean;
  pools: readonly AddressPool[];
}

/** The IPv4 subnets the host routes to (/proc/net/route), default route left out. */
export async function hostRoutes(): Promise<Cidr[]> {
  const text = await readFile('/proc/net/route', 'utf8').catch(() => '');
  const routes: Cidr[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (!destination || !mask) continue;
    // Little-endian hex words.
    const le = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
    const base = le(destination);
    const maskBits = le(mask).toString(2).replace(/0/g, '').length;
    if (maskBits === 0) continue;
    routes.push({ base, prefix: maskBits });
  }
  return routes;
}

/** A network record with Docker's defaults for every field `fields` leaves out. */
export function networkRecord(name: string, id: string, driver: string, fields: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    Name: name,
    Id: id,
    Created: new Date().toISOString(),
    Scope: 'local',
    Driver: driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Options: {},
    Labels: {},
    ...fields,
  };
}

export function hostNetwork(id: string): NetworkRecord {
  return networkRecord('host', id, 'host');
}

export function noneNetwork(id: string): NetworkRecord {
  return networkRecord('none', id, 'null');
}

/**
 * The default bridge for these settings. `previous`: the record of the last start, whose id and
 * (without bip) subnet are kept while no host route covers it.
 */
export function defaultBridgeNetwork(settings: BridgeSettings, id: string, previous: NetworkRecord | undefined, routes: readonly Cidr[], others: readonly NetworkRecord[]): NetworkRecord {
  let subnet: Cidr;
  let gateway: number;
  const clashes = (c: Cidr) => others.some((n) => n.IPAM.Config.some((p) => overlaps(parseCidr(p.Subnet), c)));
  if (settings.bip) {
    const bip = parseCidr(settings.bip);
    if (bip.ip === bip.base) throw invalidParameter(`invalid bip ${settings.bip}: give the bridge's address with its prefix, such as 10.1.0.1/24`);
    subnet = { base: bip.base, prefix: bip.prefix };
    gateway = bip.ip;
  } else {
    const kept = previous?.IPAM.Config[0];
    const keptSubnet = kept && parseCidr(kept.Subnet);
    const ownRoute = (c: Cidr) => routes.some((r) => overlaps(r, c) && !(r.base === c.base && r.prefix === c.prefix));
    if (keptSubnet && !ownRoute(keptSubnet) && !clashes(keptSubnet)) {
      subnet = { base: keptSubnet.base, prefix: keptSubnet.prefix };
      gateway = parseCidr(`${kept.Gateway}/32`).base;
    } else {
      subnet = pickSubnet(settings.pools, [...routes, ...others.flatMap((n) => n.IPAM.Config.map((p) => parseCidr(p.Subnet)))]);
      gateway = subnet.base + 1;
    }
  }
  return networkRecord('bridge', id, 'bridge', {
    Created: previous?.Created ?? new Date().toISOString(),
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: formatCidr(subnet), Gateway: formatIp(gateway) }] },
    Options: {
      'com.docker.network.bridge.default_bridge': 'true',
      [ICC_OPTION]: String(settings.icc),
      [MASQUERADE_OPTION]: 'true',
      [HOST_BINDING_OPTION]: '0.0.0.0',
      [BRIDGE_NAME_OPTION]: settings.bridge,
      [MTU_OPTION]: String(settings.mtu),
    },
  });
}
