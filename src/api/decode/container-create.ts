/**
 * POST /containers/create: the body decoded into a typed ContainerSpec, refusing what dockerd's
 * JSON decoder refuses (a field of the wrong type, a number out of its Go type's range) with its
 * message. Fields Go does not know are ignored, as Go does; the engine decides what the known ones
 * mean.
 */
import { isUnset, type ContainerSpec, type ConfigRequest, type EndpointRequest, type HostConfigRequest } from '../../engine/containers/spec.js';
import type { HealthConfigWire } from '../../wire/containers.js';
import { bool, FieldPath, integer, object, string, stringArray, stringMap, type JsonObject } from './json-fields.js';

const TOP = new FieldPath('CreateRequest');
const HOST = new FieldPath('HostConfig', ['HostConfig']);

/** Go's strslice.StrSlice: a string or an array of strings; null stays null. */
function strSlice(body: JsonObject, key: string, at: FieldPath): string[] | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return [value];
  return stringArray(body, key, at) ?? null;
}

type GoKind = 'string' | 'bool' | 'int' | 'int64' | 'uint16' | 'uint64' | '[]string' | 'map[string]string' | 'object' | 'array';

function checkKind(body: JsonObject, key: string, at: FieldPath, kind: GoKind): void {
  switch (kind) {
    case 'string':
      return void string(body, key, at);
    case 'bool':
      return void bool(body, key, at);
    case '[]string':
      return void stringArray(body, key, at);
    case 'map[string]string':
      return void stringMap(body, key, at);
    case 'object':
      return void object(body[key], at.child(key));
    case 'array': {
      const value = body[key];
      if (value !== undefined && value !== null && !Array.isArray(value)) throw at.child(key).mismatch(value, `[]${key}`);
      return;
    }
    default:
      return void integer(body, key, at, kind);
  }
}

/** HostConfig fields berthd does not act on, with their Go types: checked, then passed on as sent. */
const OTHER_HOST_FIELDS: Record<string, GoKind> = {
  Binds: '[]string',
  ContainerIDFile: 'string',
  PortBindings: 'object',
  VolumeDriver: 'string',
  VolumesFrom: '[]string',
  Annotations: 'map[string]string',
  CgroupnsMode: 'string',
  Dns: '[]string',
  DnsOptions: '[]string',
  DnsSearch: '[]string',
  ExtraHosts: '[]string',
  GroupAdd: '[]string',
  IpcMode: 'string',
  Cgroup: 'string',
  Links: '[]string',
  OomScoreAdj: 'int',
  PidMode: 'string',
  Privileged: 'bool',
  PublishAllPorts: 'bool',
  SecurityOpt: '[]string',
  StorageOpt: 'map[string]string',
  Tmpfs: 'map[string]string',
  UTSMode: 'string',
  UsernsMode: 'string',
  Sysctls: 'map[string]string',
  Isolation: 'string',
  CpuShares: 'int64',
  Memory: 'int64',
  NanoCpus: 'int64',
  CgroupParent: 'string',
  BlkioWeight: 'uint16',
  BlkioWeightDevice: 'array',
  BlkioDeviceReadBps: 'array',
  BlkioDeviceWriteBps: 'array',
  BlkioDeviceReadIOps: 'array',
  BlkioDeviceWriteIOps: 'array',
  CpuPeriod: 'int64',
  CpuQuota: 'int64',
  CpuRealtimePeriod: 'int64',
  CpuRealtimeRuntime: 'int64',
  CpusetCpus: 'string',
  CpusetMems: 'string',
  DeviceCgroupRules: '[]string',
  DeviceRequests: 'array',
  KernelMemory: 'int64',
  KernelMemoryTCP: 'int64',
  MemoryReservation: 'int64',
  MemorySwap: 'int64',
  MemorySwappiness: 'int64',
  OomKillDisable: 'bool',
  PidsLimit: 'int64',
  CpuCount: 'int64',
  CpuPercent: 'int64',
  IOMaximumIOps: 'uint64',
  IOMaximumBandwidth: 'uint64',
  Mounts: 'array',
  MaskedPaths: '[]string',
  ReadonlyPaths: '[]string',
  Init: 'bool',
};

export function consoleSize(body: JsonObject, at: FieldPath): [number, number] | undefined {
  const value = body.ConsoleSize;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw at.child('ConsoleSize').mismatch(value, '[2]uint');
  const pair = { h: value[0] ?? 0, w: value[1] ?? 0 };
  return [integer(pair, 'h', at.child('ConsoleSize'), 'uint32') ?? 0, integer(pair, 'w', at.child('ConsoleSize'), 'uint32') ?? 0];
}

/** A list of structs (Ulimits, Devices): null stays null; each element decoded by `one`. */
function structList<T>(body: JsonObject, key: string, at: FieldPath, goType: string, one: (fields: JsonObject, at: FieldPath) => T): T[] | null | undefined {
  const value = body[key];
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value)) throw at.child(key).mismatch(value, goType);
  return value.map((entry) => one(object(entry, at.child(key)) ?? {}, at.child(key)));
}

/** HostConfig.Ulimits: [{Name, Soft, Hard}] as Go's units.Ulimit. */
const ulimit = (fields: JsonObject, at: FieldPath) => ({
  Name: string(fields, 'Name', at) ?? '',
  Soft: integer(fields, 'Soft', at, 'int64') ?? 0,
  Hard: integer(fields, 'Hard', at, 'int64') ?? 0,
});

/** HostConfig.Devices: [{PathOnHost, PathInContainer, CgroupPermissions}] as Go's DeviceMapping. */
const deviceMapping = (fields: JsonObject, at: FieldPath) => ({
  PathOnHost: string(fields, 'PathOnHost', at) ?? '',
  PathInContainer: string(fields, 'PathInContainer', at) ?? '',
  CgroupPermissions: string(fields, 'CgroupPermissions', at) ?? '',
});

/** The HostConfig fields passed on as sent (Resources among them, which an update also takes), Go types checked. */
export function decodeOtherHostFields(body: JsonObject, at: FieldPath): Record<string, unknown> {
  const other: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(OTHER_HOST_FIELDS)) {
    checkKind(body, key, at, kind);
    if (body[key] !== undefined) other[key] = body[key];
  }
  const limits = structList(body, 'Ulimits', at, '[]*units.Ulimit', ulimit);
  if (limits !== undefined) other.Ulimits = limits;
  const mappings = structList(body, 'Devices', at, '[]container.DeviceMapping', deviceMapping);
  if (mappings !== undefined) other.Devices = mappings;
  return other;
}

function decodeHostConfig(value: unknown): HostConfigRequest {
  const body = object(value, TOP.child('HostConfig')) ?? {};
  const at = HOST;
  const other = decodeOtherHostFields(body, at);
  const log = object(body.LogConfig, at.child('LogConfig'));
  const restart = object(body.RestartPolicy, at.child('RestartPolicy'));
  return {
    AutoRemove: bool(body, 'AutoRemove', at),
    Runtime: string(body, 'Runtime', at),
    CapAdd: strSlice(body, 'CapAdd', at) ?? undefined,
    CapDrop: strSlice(body, 'CapDrop', at) ?? undefined,
    ReadonlyRootfs: bool(body, 'ReadonlyRootfs', at),
    ShmSize: integer(body, 'ShmSize', at, 'int64'),
    ConsoleSize: consoleSize(body, at),
    NetworkMode: string(body, 'NetworkMode', at),
    LogConfig: log && {
      Type: string(log, 'Type', at.child('LogConfig')) ?? '',
      Config: stringMap(log, 'Config', at.child('LogConfig')) ?? {},
    },
    RestartPolicy: restart && {
      Name: string(restart, 'Name', at.child('RestartPolicy')) ?? '',
      MaximumRetryCount: integer(restart, 'MaximumRetryCount', at.child('RestartPolicy'), 'int') ?? 0,
    },
    other,
  };
}

function decodeEndpoints(value: unknown): EndpointRequest[] {
  const networking = object(value, TOP.child('NetworkingConfig')) ?? {};
  const at = new FieldPath('NetworkingConfig', ['NetworkingConfig', 'EndpointsConfig']);
  const endpoints = object(networking.EndpointsConfig, at) ?? {};
  return Object.entries(endpoints).map(([network, settings]) => decodeEndpoint(network, object(settings, at.child(network)) ?? {}, at.child(network)));
}

/** One EndpointSettings of a create or a connect (network.EndpointSettings). */
export function decodeEndpoint(network: string, fields: JsonObject, at: FieldPath): EndpointRequest {
  const ipam = object(fields.IPAMConfig, at.child('IPAMConfig'));
  return {
    network,
    settingsGiven: Object.keys(fields).filter((key) => !isUnset(fields[key])),
    Aliases: stringArray(fields, 'Aliases', at) ?? undefined,
    IPv4Address: ipam ? string(ipam, 'IPv4Address', at.child('IPAMConfig')) || undefined : undefined,
    IPv6Address: ipam ? string(ipam, 'IPv6Address', at.child('IPAMConfig')) || undefined : undefined,
    LinkLocalIPs: ipam ? stringArray(ipam, 'LinkLocalIPs', at.child('IPAMConfig')) ?? undefined : undefined,
    Links: stringArray(fields, 'Links', at) ?? undefined,
    MacAddress: string(fields, 'MacAddress', at) || undefined,
    DriverOpts: stringMap(fields, 'DriverOpts', at) ?? undefined,
  };
}

/** Config.Healthcheck: durations are Go's time.Duration (int64 nanoseconds), Retries an int. */
function decodeHealthcheck(health: JsonObject, at: FieldPath): HealthConfigWire {
  const durations = ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const;
  return {
    ...(health.Test !== undefined && health.Test !== null && { Test: strSlice(health, 'Test', at) ?? [] }),
    ...Object.fromEntries(durations.map((key) => [key, integer(health, key, at, 'int64') ?? 0])),
    Retries: integer(health, 'Retries', at, 'int') ?? 0,
  };
}

function decodeConfig(body: JsonObject): ConfigRequest {
  const at = TOP;
  const health = object(body.Healthcheck, at.child('Healthcheck'));
  const volumes = object(body.Volumes, at.child('Volumes'));
  const exposed = object(body.ExposedPorts, at.child('ExposedPorts'));
  return {
    Image: string(body, 'Image', at) ?? '',
    Hostname: string(body, 'Hostname', at),
    Domainname: string(body, 'Domainname', at),
    User: string(body, 'User', at),
    AttachStdin: bool(body, 'AttachStdin', at),
    AttachStdout: bool(body, 'AttachStdout', at),
    AttachStderr: bool(body, 'AttachStderr', at),
    Tty: bool(body, 'Tty', at),
    OpenStdin: bool(body, 'OpenStdin', at),
    StdinOnce: bool(body, 'StdinOnce', at),
    Env: stringArray(body, 'Env', at),
    Cmd: strSlice(body, 'Cmd', at),
    Entrypoint: strSlice(body, 'Entrypoint', at),
    WorkingDir: string(body, 'WorkingDir', at),
    Labels: stringMap(body, 'Labels', at),
    StopSignal: string(body, 'StopSignal', at),
    StopTimeout: integer(body, 'StopTimeout', at, 'int'),
    MacAddress: string(body, 'MacAddress', at),
    Volumes: volumes && Object.keys(volumes),
    ExposedPorts: exposed && Object.keys(exposed),
    Healthcheck: health && decodeHealthcheck(health, at.child('Healthcheck')),
  };
}

export function decodeContainerSpec(body: JsonObject, platform?: string): ContainerSpec {
  return {
    platform,
    config: decodeConfig(body),
    hostConfig: decodeHostConfig(body.HostConfig),
    endpoints: decodeEndpoints(body.NetworkingConfig),
  };
}
