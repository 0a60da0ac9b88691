/**
 * Published ports: HostConfig.PortBindings (and -P's PublishAllPorts over ExposedPorts) checked
 * at create with moby's messages, then bound at start. netavark only writes DNAT rules: it does
 * not notice a host port already in use, so berthd holds a socket on every published host port
 * (as Podman does) — a port in use fails the start with Docker's error, and a random port (0) is
 * the one the kernel hands out from its ephemeral range. The held sockets never see traffic:
 * DNAT happens before the socket lookup.
 */
import { createServer, Server } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { invalidParameter, BerthError } from '../../common/errors.js';
import { parseIp } from './ipv4.js';
import type { PublishedPort } from '../containers/networking.js';
import { relayTcp, relayUdp } from './port-proxy.js';

export interface PortBindingWire {
  HostIp?: string;
  HostPort?: string;
}

export interface PublishRequest {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIp: string;
  /** [first, last]; [0, 0] for a random port. */
  hostPorts: [number, number];
}


/** "80/tcp" → port and protocol; moby's messages for what is not one. */
export function parsePortKey(key: string): { port: number; protocol: 'tcp' | 'udp' } {
  const [portText = '', protocol = 'tcp'] = key.split('/');
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw invalidParameter(`invalid port specification: "${portText}"`);
  if (protocol !== 'tcp' && protocol !== 'udp') {
    if (protocol === 'sctp') throw invalidParameter('sctp ports are not supported by berthd');
    throw invalidParameter(`invalid proto '${protocol}'`);
  }
  return { port, protocol };
}

function hostPorts(text: string | undefined, key: string): [number, number] {
  if (text === undefined || text === '') return [0, 0];
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  const first = Number(match?.[1]);
  const last = match?.[2] === undefined ? first : Number(match[2]);
  if (!match || first > 65535 || last > 65535 || last < first) throw invalidParameter(`invalid port specification: "${text}" (${key})`);
  return [first, last];
}

/**
 * What a container publishes: its PortBindings, and with PublishAllPorts every exposed port not
 * bound otherwise on a random host port.
 */
export function publishRequests(bindings: Record<string, PortBindingWire[] | null> | null | undefined, exposed: Record<string, object> | null | undefined, publishAll: boolean): PublishRequest[] {
  const requests: PublishRequest[] = [];
  const seen = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { port, protocol } = parsePortKey(key);
    seen.add(`${port}/${protocol}`);
    for (const binding of list?.length ? list : [{}]) {
      const hostIp = binding.HostIp ?? '';
      if (hostIp !== '' && parseIp(hostIp) === undefined && hostIp !== '::') throw invalidParameter(`invalid IP address: ${hostIp}`);
      requests.push({ containerPort: port, protocol, hostIp, hostPorts: hostPorts(binding.HostPort, key) });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { port, protocol } = parsePortKey(key);
      if (!seen.has(`${port}/${protocol}`)) requests.push({ containerPort: port, protocol, hostIp: '', hostPorts: [0, 0] });
    }
  }
  return requests;
}

type Held = Server | Socket;

function bindOne(protocol: 'tcp' | 'udp', host: string, port: number): Promise<{ held: Held; port: number }> {
  return new Promise((resolve, reject) => {
    if (protocol === 'tcp') {
      const server = createServer();
      server.once('error', reject);
      // Never accepts: the listening socket only keeps the port from others.
      server.listen({ host, port, backlog: 1, exclusive: true }, () => {
        resolve({ held: server, port: (server.address() as { port: number }).port });
      });
    } else {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind({ address: host, port, exclusive: true }, () => resolve({ held: socket, port: socket.address().port }));
    }
  });
}

function close(held: Held): void {
  try {
    held.close();
  } catch {
    // already closed
  }
}

/** The sockets holding published ports, per container (and, relaying, what stops each relay). */
export class PortReservations {
  private readonly byContainer = new Map<string, Held[]>();
  private readonly relays = new Map<string, Array<() => void>>();

  /** `relay`: the held sockets carry the traffic themselves (published ports obeying the host firewall), no DNAT. */
  constructor(readonly relay = false) {}

  private hold(containerId: string, held: Held, port: PublishedPort, containerIp: string): void {
    this.byContainer.set(containerId, [...(this.byContainer.get(containerId) ?? []), held]);
    if (!this.relay) return;
    const stop = held instanceof Server ? relayTcp(held, containerIp, port.containerPort) : relayUdp(held, containerIp, port.containerPort);
    this.relays.set(containerId, [...(this.relays.get(containerId) ?? []), stop]);
  }

  /**
   * Binds every request's host port (the first free one of a range); all or nothing. Docker's
   * message when a port is taken.
   */
  async reserve(containerId: string, containerName: string, requests: readonly PublishRequest[], containerIp: string): Promise<PublishedPort[]> {
    const held: Held[] = [];
    const published: PublishedPort[] = [];
    try {
      for (const request of requests) {
        const host = request.hostIp === '' || request.hostIp === '::' ? '0.0.0.0' : request.hostIp;
        const [first, last] = request.hostPorts;
        let lastError: unknown;
        let bound: { held: Held; port: number } | undefined;
        for (let port = first; port <= last && !bound; port++) {
          bound = await bindOne(request.protocol, host, port).catch((err) => {
            lastError = err;
            return undefined;
          });
        }
        if (!bound) {
          const reason = (lastError as NodeJS.ErrnoException)?.code === 'EADDRINUSE' ? 'address already in use' : (lastError as Error)?.message;
          const hostPort = first === last ? `${first}` : `${first}-${last}`;
          throw new BerthError('internal', `driver failed programming external connectivity on endpoint ${containerName} (${containerId.slice(0, 12)}): failed to bind host port for ${host}:${hostPort}:${containerIp}:${request.containerPort}/${request.protocol}: ${reason}`);
        }
        held.push(bound.held);
        published.push({ containerPort: request.containerPort, protocol: request.protocol, hostIp: host, hostPort: bound.port });
      }
    } catch (err) {
      held.forEach(close);
      throw err;
    }
    held.forEach((h, i) => this.hold(containerId, h, published[i], containerIp));
    return published;
  }

  /** Holds the ports of a container found alive at daemon start again (best effort: the rules already forward them). */
  async restore(containerId: string, ports: readonly PublishedPort[], containerIp: string): Promise<void> {
    for (const port of ports) {
      const bound = await bindOne(port.protocol, port.hostIp, port.hostPort).catch(() => undefined);
      if (bound) this.hold(containerId, bound.held, port, containerIp);
    }
  }

  release(containerId: string): void {
    this.relays.get(containerId)?.forEach((stop) => stop());
    this.relays.delete(containerId);
    this.byContainer.get(containerId)?.forEach(close);
    this.byContainer.delete(containerId);
  }

  close(): void {
    for (const id of [...this.byContainer.keys()]) this.release(id);
  }
}
