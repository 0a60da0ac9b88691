/**
 * Published ports that obey the host firewall (daemon setting `published-ports-obey-host-firewall`,
 * beyond Docker): instead of DNAT rules, which act before the host's INPUT chain and so bypass it,
 * the socket berthd already holds on the host port accepts the traffic and relays it to the
 * container, as Docker's userland proxy does. Traffic then ends at a local socket, where the
 * host's own INPUT rules apply to it like to any service of the host. The container sees the
 * connection come from its gateway.
 */
import { connect, type Server, type Socket as TcpSocket } from 'node:net';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';

/** UDP has no end: a flow idle this long is forgotten. */
const UDP_IDLE_MS = 30_000;
/** At most this many UDP flows per port at once (the oldest goes first). */
const UDP_MAX_FLOWS = 1024;

/** Relays every connection the server accepts to target:port. Returns what stops it. */
export function relayTcp(server: Server, target: string, port: number): () => void {
  const open = new Set<TcpSocket>();
  const onConnection = (client: TcpSocket) => {
    const upstream = connect({ host: target, port });
    open.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  };
  server.on('connection', onConnection);
  return () => {
    server.off('connection', onConnection);
    for (const socket of open) socket.destroy();
  };
}

/** Relays datagrams to target:port, one upstream socket per client, replies back to that client. */
export function relayUdp(socket: UdpSocket, target: string, port: number): () => void {
  const flows = new Map<string, { upstream: UdpSocket; timer: NodeJS.Timeout }>();
  const forget = (key: string) => {
    const flow = flows.get(key);
    if (!flow) return;
    clearTimeout(flow.timer);
    flow.upstream.close();
    flows.delete(key);
  };
  const onMessage = (message: Buffer, from: RemoteInfo) => {
    const key = `${from.address}:${from.port}`;
    let flow = flows.get(key);
    if (!flow) {
      if (flows.size >= UDP_MAX_FLOWS) forget(flows.keys().next().value!);
      const upstream = createSocket('udp4');
      upstream.on('message', (reply) => socket.send(reply, from.port, from.address));
      upstream.on('error', () => forget(key));
      flow = { upstream, timer: setTimeout(() => forget(key), UDP_IDLE_MS) };
      flows.set(key, flow);
    }
    flow.timer.refresh();
    flow.upstream.send(message, port, target);
  };
  socket.on('message', onMessage);
  return () => {
    socket.off('message', onMessage);
    for (const key of [...flows.keys()]) forget(key);
  };
}
