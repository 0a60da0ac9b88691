/**
 * EXPOSE's port specs → the image's ExposedPorts keys (`80/tcp`), as moby's builder parses them
 * (dispatchers.go parsePortSpec): `port`, `start-end` ranges (one key per port), `/tcp|udp|sctp`,
 * and the `ip:hostPort:containerPort` forms of `-p`, whose host part EXPOSE ignores.
 */

function portRange(text: string): [number, number] | undefined {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  if (start > 65535 || end > 65535 || end < start) return undefined;
  return [start, end];
}

/** The `port/proto` keys of one spec; throws Docker's message for a bad one. */
export function exposedPortKeys(raw: string): string[] {
  const parts = raw.split(':');
  const containerPart = parts.at(-1)!;
  const hostPort = parts.length >= 2 ? parts.at(-2)! : '';
  const slash = containerPart.indexOf('/');
  const port = slash === -1 ? containerPart : containerPart.slice(0, slash);
  if (port === '') throw new Error(`no port specified: ${raw}<empty>`);
  const proto = (slash === -1 || containerPart.slice(slash + 1) === '' ? 'tcp' : containerPart.slice(slash + 1)).toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new Error(`invalid proto: ${proto}`);
  const range = portRange(port);
  if (!range) throw new Error(`invalid containerPort: ${port}`);
  if (hostPort !== '') {
    const hostRange = portRange(hostPort);
    if (!hostRange) throw new Error(`invalid hostPort: ${hostPort}`);
    if (range[1] - range[0] !== hostRange[1] - hostRange[0] && range[1] !== range[0]) {
      throw new Error(`invalid ranges specified for container and host Ports: ${port} and ${hostPort}`);
    }
  }
  const keys: string[] = [];
  for (let p = range[0]; p <= range[1]; p++) keys.push(`${p}/${proto}`);
  return keys;
}
