/**
 * Address management, which netavark leaves to its caller: the addresses in use per network
 * (rebuilt at daemon start from the live attachments), the next free one round-robin (so an
 * address just released is not handed out again at once, as Podman and CNI's host-local do), and
 * subnets for new networks from the daemon's address pools.
 */
import { conflict, invalidParameter, unavailable } from '../../common/errors.js';
import { contains, overlaps, parseCidr, parseIp, size, type Cidr } from './ipv4.js';
import type { NetworkRecord } from './model.js';

export interface AddressPool {
  base: string;
  size: number;
}

/** Docker's defaults: 172.17-31.0.0/16, then 192.168.0.0/16 cut in /20s. */
export const DEFAULT_ADDRESS_POOLS: readonly AddressPool[] = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

/** The first block of the pools that overlaps none of `taken`. */
export function pickSubnet(pools: readonly AddressPool[], taken: readonly Cidr[]): Cidr {
  for (const pool of pools) {
    const base = parseCidr(pool.base);
    const step = 2 ** (32 - pool.size);
    for (let at = base.base; at < base.base + size(base); at += step) {
      const candidate = { base: at, prefix: pool.size };
      if (!taken.some((t) => overlaps(t, candidate))) return candidate;
    }
  }
  throw unavailable('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

interface Space {
  subnet: Cidr;
  range: Cidr;
  gateway: number;
  used: Set<number>;
  last: number;
}

export class Ipam {
  private readonly spaces = new Map<string, Space>();

  private space(network: NetworkRecord): Space {
    let space = this.spaces.get(network.Id);
    if (!space) {
      const pool = network.IPAM.Config[0];
      if (!pool) throw invalidParameter(`network ${network.Name} has no IPv4 subnet`);
      const subnet = parseCidr(pool.Subnet);
      const range = pool.IPRange ? parseCidr(pool.IPRange) : subnet;
      space = { subnet, range, gateway: parseIp(pool.Gateway) ?? subnet.base + 1, used: new Set(), last: range.base };
      this.spaces.set(network.Id, space);
    }
    return space;
  }

  /** A static address (`--ip`): in the subnet, not the gateway, not in use. Docker's messages. */
  claim(network: NetworkRecord, address: string): number {
    const space = this.space(network);
    const ip = parseIp(address);
    if (ip === undefined) throw invalidParameter(`invalid IPv4 address: ${address}`);
    if (!contains(space.subnet, ip)) {
      throw invalidParameter(`invalid endpoint settings:\nno configured subnet or ip-range contain the IP address ${address}`);
    }
    if (ip === space.gateway || ip === space.subnet.base || ip === space.subnet.base + size(space.subnet) - 1 || space.used.has(ip)) {
      throw conflict(`Address already in use`);
    }
    space.used.add(ip);
    return ip;
  }

  /** The next free address after the last one handed out. */
  allocate(network: NetworkRecord): number {
    const space = this.space(network);
    const { range, subnet } = space;
    const count = size(range);
    for (let step = 1; step <= count; step++) {
      const ip = range.base + ((space.last - range.base + step) % count);
      if (ip === subnet.base || ip === subnet.base + size(subnet) - 1 || ip === space.gateway || space.used.has(ip)) continue;
      space.used.add(ip);
      space.last = ip;
      return ip;
    }
    throw unavailable(`no available IPv4 addresses on this network's address pools: ${network.Name} (${network.Id})`);
  }

  /** Marks an address in use again (attachments found alive at daemon start). */
  restore(network: NetworkRecord, address: string): void {
    const ip = parseIp(address);
    if (ip !== undefined) this.space(network).used.add(ip);
  }

  release(networkId: string, address: string): void {
    const ip = parseIp(address);
    if (ip !== undefined) this.spaces.get(networkId)?.used.delete(ip);
  }

  forget(networkId: string): void {
    this.spaces.delete(networkId);
  }

  prefixOf(network: NetworkRecord): number {
    return this.space(network).subnet.prefix;
  }
}

