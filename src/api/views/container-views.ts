import { humanDuration } from '../../common/human-duration.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { ContainerSizes, WaitResult } from '../../engine/containers/lifecycle-types.js';
import { mountPointView } from './volume-views.js';
import type { ContainerInspectResponse, ContainerSummary, ContainerWaitResponse, EndpointSettings, Port, PortMapWire } from '../../wire/containers.js';

function networks(record: ContainerRecord): Record<string, EndpointSettings> {
  return Object.fromEntries(Object.entries(record.networks ?? {}).map(([name, { DesiredMacAddress: _, ...endpoint }]) => [name, endpoint]));
}

/** NetworkSettings.Ports: every exposed port, with the host ports its run published (null when none). */
function portMap(record: ContainerRecord): PortMapWire {
  const ports: PortMapWire = {};
  for (const key of Object.keys(record.config.ExposedPorts ?? {})) ports[key] = null;
  for (const p of record.publishedPorts ?? []) {
    const key = `${p.containerPort}/${p.protocol}`;
    ports[key] = [...(ports[key] ?? []), { HostIp: p.hostIp, HostPort: String(p.hostPort) }];
  }
  return ports;
}

/** `docker ps` PORTS: published ones with their host side, exposed ones without. */
function summaryPorts(record: ContainerRecord): Port[] {
  const published = record.publishedPorts ?? [];
  const list: Port[] = published.map((p) => ({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol }));
  for (const key of Object.keys(record.config.ExposedPorts ?? {})) {
    const [port, type = 'tcp'] = key.split('/');
    if (!published.some((p) => `${p.containerPort}/${p.protocol}` === `${port}/${type}`)) list.push({ PrivatePort: Number(port), Type: type as Port['Type'] });
  }
  return list;
}

/** `docker ps` STATUS text, from moby's State.String(). */
export function statusText(record: ContainerRecord, now = Date.now()): string {
  const { state } = record;
  switch (state.Status) {
    case 'running': {
      const up = `Up ${humanDuration(now - Date.parse(state.StartedAt))}`;
      const health = state.Health?.Status;
      if (!health) return up;
      return `${up} (${health === 'starting' ? 'health: starting' : health})`;
    }
    case 'restarting':
      return `Restarting (${state.ExitCode}) ${humanDuration(now - Date.parse(state.FinishedAt))} ago`;
    case 'exited':
      return `Exited (${state.ExitCode}) ${humanDuration(now - Date.parse(state.FinishedAt))} ago`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(state.StartedAt))} (Paused)`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'"'"'`)}'`;
}

/**
 * GET /containers/json entry. `imageReferenceHolds`: Config.Image still names the container's
 * image; when not (the tag moved, or the image was removed by force), Image is the image id.
 */
export function containerSummary(record: ContainerRecord, imageReferenceHolds: boolean, sizes?: ContainerSizes): ContainerSummary {
  return {
    ...(sizes && { SizeRw: sizes.sizeRw, SizeRootFs: sizes.sizeRootFs }),
    Id: record.id,
    Names: [record.name],
    Image: imageReferenceHolds ? record.config.Image : record.image,
    ImageID: record.image,
    Command: [record.path, ...record.args].map(quoteArg).join(' '),
    Created: Math.floor(Date.parse(record.created) / 1000),
    Ports: summaryPorts(record),
    Labels: record.config.Labels ?? {},
    State: record.state.Status,
    Status: statusText(record),
    HostConfig: { NetworkMode: record.hostConfig.NetworkMode },
    NetworkSettings: { Networks: networks(record) },
    Mounts: (record.mountPoints ?? []).map(mountPointView),
  };
}

/** GET /containers/{id}/json */
export function containerInspect(record: ContainerRecord, graphDriverData: Record<string, string>, execIds: string[], sizes?: ContainerSizes): ContainerInspectResponse {
  return {
    ...(sizes && { SizeRw: sizes.sizeRw, SizeRootFs: sizes.sizeRootFs }),
    Id: record.id,
    Created: record.created,
    Path: record.path,
    Args: record.args,
    State: record.state,
    Image: record.image,
    ResolvConfPath: record.resolvConfPath,
    HostnamePath: record.hostnamePath,
    HostsPath: record.hostsPath,
    LogPath: record.logPath,
    Name: record.name,
    RestartCount: record.restartCount,
    Driver: record.driver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length > 0 ? execIds : null,
    HostConfig: record.hostConfig,
    GraphDriver: { Data: graphDriverData, Name: record.driver },
    Mounts: (record.mountPoints ?? []).map(mountPointView),
    Config: { ...record.config },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: '',
      Ports: portMap(record),
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      // The top-level fields describe the default bridge's endpoint only, as Docker's.
      EndpointID: record.networks?.bridge?.EndpointID ?? '',
      Gateway: record.networks?.bridge?.Gateway ?? '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: record.networks?.bridge?.IPAddress ?? '',
      IPPrefixLen: record.networks?.bridge?.IPPrefixLen ?? 0,
      IPv6Gateway: '',
      MacAddress: record.networks?.bridge?.MacAddress ?? '',
      Networks: networks(record),
    },
  };
}

/** What dockerd writes when a wait ends; a canceled one is answered though nobody reads it. */
export function waitResponse(result: WaitResult): ContainerWaitResponse {
  if ('canceled' in result) return { StatusCode: -1, Error: { Message: 'context canceled' } };
  return { StatusCode: result.exitCode, Error: null };
}
