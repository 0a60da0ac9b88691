/**
 * What a create request asks for, typed and checked for JSON types by the API's decoder
 * (api/decode/container-create.ts). The engine applies its rules to it (defaults, image merge,
 * refusals of settings it does not carry out) in create-config.ts. Absent fields are undefined;
 * a command field keeps null apart from absent because moby's image merge tells them apart.
 */
import type { HealthConfigWire } from '../../wire/containers.js';

export interface ConfigRequest {
  Image: string;
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  MacAddress?: string;
  /** Config.ExposedPorts keys ("80/tcp"). */
  ExposedPorts?: string[];
  /** Mount points asked for (Config.Volumes keys). */
  Volumes?: string[];
  Healthcheck?: HealthConfigWire;
}

export interface LogConfigRequest {
  Type: string;
  Config: Record<string, string>;
}

/** HostConfig fields the engine acts on; `other` holds the rest, type-checked, as sent. */
export interface HostConfigRequest {
  AutoRemove?: boolean;
  Runtime?: string;
  CapAdd?: string[];
  CapDrop?: string[];
  ReadonlyRootfs?: boolean;
  ShmSize?: number;
  ConsoleSize?: [number, number];
  NetworkMode?: string;
  LogConfig?: LogConfigRequest;
  RestartPolicy?: { Name: string; MaximumRetryCount: number };
  other: Record<string, unknown>;
}

/** One entry of NetworkingConfig.EndpointsConfig: the network's name and the settings given. */
export interface EndpointRequest {
  network: string;
  /** Names of the settings given a non-empty value (Aliases, IPAMConfig, MacAddress, …). */
  settingsGiven: string[];
  Aliases?: string[];
  IPv4Address?: string;
  IPv6Address?: string;
  LinkLocalIPs?: string[];
  Links?: string[];
  MacAddress?: string;
  DriverOpts?: Record<string, string>;
}

export interface ContainerSpec {
  config: ConfigRequest;
  hostConfig: HostConfigRequest;
  endpoints: EndpointRequest[];
  /** The `platform` query ("linux/amd64"); absent or '' for the host's. */
  platform?: string;
}

/**
 * Whether a value is what clients send for "not set": Go's zero values (null, false, 0, "", []
 * and {}, all of which the docker CLI sends) and a negative number (PidsLimit and
 * MemorySwappiness -1 mean "unlimited" / "the default").
 */
export function isUnset(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return typeof value === 'number' && value < 0;
}
