/**
 * Plugs a container's interface into its network's bridge and unplugs it, one call at a time
 * (they edit the same bridges, firewall chains and aardvark-dns configuration).
 *
 * netavark owns each network's bridge and firewall rules: it makes them with the first container
 * and removes them with the last (when no port of the bridge remains), and it writes a
 * container's published ports and name-server entry. But every setup also re-checks all of the
 * network's rules, some 23 iptables runs, even when they stand already. So while the bridge has
 * ports (netavark's own sign that the network is set up), a container with no published port and
 * no name server is plugged in with iproute2 as netavark would (veth with its master, address,
 * route, hairpin): two `ip -batch` runs. Unplugged the same way while another port remains; the
 * last one goes through netavark's teardown, which removes the network's bridge and rules.
 * ../shared/notes/netavark.md records netavark's behaviour; docs/performance.md the figures.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, readdir, writeFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { BerthError, wrap } from '../../common/errors.js';
import { Semaphore } from '../../storage/semaphore.js';
import type { Netavark, NetavarkOptions } from './netavark.js';
import type { Attachment } from './sandboxes.js';

const run = promisify(execFile);
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

/** Who plugged an interface in: iproute2 leaves the IPv6 autoconf sysctl of the interface to the runtime. */
export type Plugged = 'netavark' | 'iproute2';

/** What the plumbing needs of an attachment. */
export type Pluggable = Pick<Attachment, 'interfaceName' | 'ip' | 'prefix' | 'gateway' | 'mac' | 'linkLocal' | 'options'>;

export class BridgePlumbing {
  private readonly serial = new Semaphore(1);

  constructor(private readonly netavark: Netavark) {}

  /**
   * `iproute2`: whether iproute2 may plug it in; the caller then has the runtime turn IPv6
   * autoconf off on the interface (`autoconfOff`), as netavark does itself. `makeNetns`: the
   * named namespace is made first.
   */
  async setup(netnsPath: string, attachment: Pluggable, how: { iproute2: boolean; makeNetns: boolean }): Promise<Plugged> {
    const makeNetns = how.makeNetns ? [`netns add ${basename(netnsPath)}`] : [];
    return this.exclusive(async () => {
      const network = networkOf(attachment.options);
      if (how.iproute2 && plainAttachment(attachment.options) && (await bridgePorts(network.network_interface).catch(() => [])).length > 0) {
        await plug(netnsPath, attachment, makeNetns);
        return 'iproute2';
      }
      if (makeNetns.length > 0) await ip([], makeNetns);
      await this.netavark.setup(netnsPath, attachment.options);
      await hairpinOn(network.network_interface);
      const linkLocal = linkLocalLines(attachment);
      if (linkLocal.length > 0) {
        await ip(['-n', basename(netnsPath)], linkLocal).catch((err: unknown) => {
          throw wrap(err, `adding the link-local addresses of ${attachment.interfaceName}`);
        });
      }
      return 'netavark';
    });
  }

  /** Undoes a setup; an error means part of it was already gone. */
  async teardown(netnsPath: string, attachment: Pluggable): Promise<void> {
    return this.exclusive(async () => {
      const network = networkOf(attachment.options);
      // Two ports at least: this one and another that keeps the network up.
      if (plainAttachment(attachment.options) && (await bridgePorts(network.network_interface).catch(() => [])).length > 1) {
        await ip(['-n', basename(netnsPath), 'link', 'del', attachment.interfaceName]);
        return;
      }
      try {
        await this.netavark.teardown(netnsPath, attachment.options);
      } finally {
        if ((await bridgePorts(network.network_interface).catch(() => undefined)) === undefined) await removeDnatChain(network.name);
      }
    });
  }

  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.serial.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }
}

function networkOf(options: NetavarkOptions) {
  const network = Object.values(options.network_info)[0];
  if (!network) throw new BerthError('internal', 'netavark options without a network');
  return network;
}

/** No published port and no name server: nothing of it is netavark's but the network it joins. */
function plainAttachment(options: NetavarkOptions): boolean {
  return (options.port_mappings?.length ?? 0) === 0 && !networkOf(options).dns_enabled;
}

/** The bridge's ports; rejects when the bridge does not exist. */
function bridgePorts(bridge: string): Promise<string[]> {
  return readdir(`/sys/class/net/${bridge}/brif`);
}

async function ip(args: string[], batch?: string[]): Promise<void> {
  const child = run('ip', batch ? [...args, '-batch', '-'] : args, { env: ENV });
  child.child.stdin?.on('error', () => {});
  child.child.stdin?.end(batch ? `${batch.join('\n')}\n` : undefined);
  await child;
}

/**
 * The veth pair (host end on the bridge, hairpin on; the other end in the namespace) and the
 * container's side, as netavark makes them; `first`: lines to run before, in the same batch.
 */
async function plug(netnsPath: string, a: Pluggable, first: string[]): Promise<void> {
  const network = networkOf(a.options);
  const mtu = network.options.mtu ? ` mtu ${network.options.mtu}` : '';
  // Named after the container and interface, as the kernel's vethN names could be taken by the time the batch runs.
  const hostEnd = `veth${a.options.container_id.slice(0, 10)}${a.interfaceName.replace(/^eth/, '')}`.slice(0, 15);
  const metric = network.options.metric ?? '100';
  try {
    await ip([], [
      ...first,
      `link add ${hostEnd}${mtu} master ${network.network_interface} up type veth peer name ${a.interfaceName} address ${a.mac}${mtu} netns ${netnsPath}`,
      `link set dev ${hostEnd} type bridge_slave hairpin on`,
    ]);
    // `ip -n` takes the name of a namespace in /run/netns, not a path.
    await ip(['-n', basename(netnsPath)], [
      'link set lo up',
      `addr add ${a.ip}/${a.prefix} brd + dev ${a.interfaceName}`,
      `link set ${a.interfaceName} up`,
      ...linkLocalLines(a),
      ...(network.internal ? [] : [`route add default via ${a.gateway} dev ${a.interfaceName} proto static metric ${metric}`]),
    ]);
  } catch (err) {
    throw wrap(err, `plugging ${a.interfaceName} into ${network.network_interface}`);
  }
}

/** libnetwork's masks for link-local addresses: /16 for IPv4 (169.254.0.0/16), /64 for IPv6 (fe80::/64). */
function linkLocalLines(a: Pluggable): string[] {
  return (a.linkLocal ?? []).map((address) => `addr add ${address}/${isIPv4(address) ? 16 : 64} dev ${a.interfaceName}`);
}

let ipv6: Promise<boolean> | undefined;

/** The sysctl netavark sets in the namespace of each interface it makes (no SLAAC from router advertisements), where the host has IPv6. */
export async function autoconfOff(interfaceName: string): Promise<Record<string, string>> {
  ipv6 ??= access('/proc/sys/net/ipv6/conf/default/autoconf').then(() => true, () => false);
  return (await ipv6) ? { [`net.ipv6.conf.${interfaceName}.autoconf`]: '0' } : {};
}

/**
 * netavark makes a network's NETAVARK-DN-<hash> nat chain with its first published port and
 * removes it only when the network's last container has published ports itself: after a
 * complete teardown it may stay, empty. Deleting it fails while a rule is in it or jumps to it.
 */
async function removeDnatChain(networkName: string): Promise<void> {
  const hash = createHash('sha512').update(networkName).digest('hex').toUpperCase().slice(0, 13);
  await run('iptables', ['-w', '-t', 'nat', '-X', `NETAVARK-DN-${hash}`], { env: ENV }).catch(() => {});
}

/**
 * Hairpin on every port of the bridge, so that a container reaches its own published ports
 * through the host's address (netavark leaves it off; the CNI bridge plugin turns it on).
 */
async function hairpinOn(bridge: string): Promise<void> {
  const ports = await bridgePorts(bridge).catch(() => [] as string[]);
  await Promise.all(ports.map((port) => writeFile(`/sys/class/net/${bridge}/brif/${port}/hairpin_mode`, '1').catch(() => {})));
}
