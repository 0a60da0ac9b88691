/**
 * Docker Engine API v1.50 wire shapes for containers, as the API views write them and clients
 * read them (the names are Docker's, from its swagger definitions). Types only: nothing here
 * decides anything.
 */
import type { MountWire } from './volumes.js';

export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  GwPriority: number;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

/** Docker's container states. */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerStateWire {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Only for a container with a health check. */
  Health?: HealthWire;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One run of a health check probe. */
export interface HealthcheckResultWire {
  Start: string;
  End: string;
  /** 0 healthy, 1 unhealthy, -1 the probe could not run or timed out. */
  ExitCode: number;
  Output: string;
}

/** State.Health: the status, the failures in a row and the last five probes, oldest first. */
export interface HealthWire {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthcheckResultWire[];
}

/** Config.Healthcheck (durations in nanoseconds; 0 means the default). */
export interface HealthConfigWire {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** A published port, as GET /containers/json lists it. */
export interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: 'tcp' | 'udp' | 'sctp';
}

/** An entry of GET /containers/json. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Port[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: string;
  Status: string;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, EndpointSettings> };
  Mounts: unknown[];
}

/** NetworkSettings.Ports: "80/tcp" → its host bindings, null for a port exposed and not published. */
export type PortMapWire = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;

export interface NetworkSettingsWire {
  Bridge: string;
  SandboxID: string;
  SandboxKey: string;
  Ports: PortMapWire;
  HairpinMode: boolean;
  LinkLocalIPv6Address: string;
  LinkLocalIPv6PrefixLen: number;
  SecondaryIPAddresses: null;
  SecondaryIPv6Addresses: null;
  EndpointID: string;
  Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}

/** GET /containers/{id}/json. Config and HostConfig are Docker's structs, field for field. */
export interface ContainerInspectResponse {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerStateWire;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: Record<string, unknown>;
  GraphDriver: { Data: Record<string, string>; Name: string };
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: unknown[];
  Config: ContainerConfigWire;
  NetworkSettings: NetworkSettingsWire;
}

/** POST /containers/create → 201 */
export interface ContainerCreateResponse {
  Id: string;
  Warnings: string[];
}

/** POST /containers/{id}/wait → 200 */
export interface ContainerWaitResponse {
  StatusCode: number;
  Error: { Message: string } | null;
}

/** POST /containers/prune → 200 */
export interface ContainerPruneResponse {
  ContainersDeleted: string[] | null;
  SpaceReclaimed: number;
}

/** `Config` of a container, as inspect shows it. */
export interface ContainerConfigWire {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Image: string;
  Volumes?: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild?: string[] | null;
  Labels: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  /** Absent without a health check (from the request or the image); Test ["NONE"] turns the image's off. */
  Healthcheck?: HealthConfigWire;
}

/** POST /containers/create body: the same fields, every one optional but Image. */
export type ContainerConfigRequest = Partial<ContainerConfigWire> & { Image: string };

export interface HostConfigRequest extends ResourcesWire {
  AutoRemove?: boolean;
  ConsoleSize?: [number, number];
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  ReadonlyRootfs?: boolean;
  ShmSize?: number;
  Runtime?: string;
  NetworkMode?: string;
  RestartPolicy?: { Name: string; MaximumRetryCount: number };
  KernelMemory?: number;
  OomScoreAdj?: number;
  Privileged?: boolean;
  SecurityOpt?: string[] | null;
  Devices?: DeviceMappingWire[] | null;
  DeviceCgroupRules?: string[] | null;
  Sysctls?: Record<string, string> | null;
  GroupAdd?: string[] | null;
  Init?: boolean | null;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  UsernsMode?: string;
  CgroupnsMode?: string;
  CgroupParent?: string;
  LogConfig?: { Type: string; Config: Record<string, string> };
  PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  PublishAllPorts?: boolean;
  Dns?: string[];
  DnsOptions?: string[];
  DnsSearch?: string[];
  ExtraHosts?: string[] | null;
  Links?: string[] | null;
  Binds?: string[] | null;
  Mounts?: MountWire[] | null;
  Tmpfs?: Record<string, string> | null;
  VolumesFrom?: string[] | null;
  VolumeDriver?: string;
}

/** One HostConfig.Devices entry. */
export interface DeviceMappingWire {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** One HostConfig.Ulimits entry (go-units' Ulimit): "nofile", soft, hard. */
export interface UlimitWire {
  Name: string;
  Soft: number;
  Hard: number;
}

/** HostConfig's Resources that Berth carries out, as create and update take them. */
export interface ResourcesWire {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  MemorySwappiness?: number | null;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  BlkioWeight?: number;
  OomKillDisable?: boolean | null;
  Ulimits?: UlimitWire[] | null;
}

/** POST /containers/{id}/update's body (Docker's UpdateConfig). */
export interface ContainerUpdateRequest extends ResourcesWire {
  RestartPolicy?: { Name: string; MaximumRetryCount: number };
}

/** POST /containers/{id}/update's answer. */
export interface ContainerUpdateResponse {
  Warnings: string[];
}

export interface ContainerCreateRequest extends ContainerConfigRequest {
  HostConfig: HostConfigRequest;
  /** The endpoints by network name (--network-alias, --ip go to the mode's network). */
  NetworkingConfig?: { EndpointsConfig: Record<string, { Aliases?: string[]; IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] }; Links?: string[] }> };
}

/** The stat of a path in a container: base64 JSON in X-Docker-Container-Path-Stat (HEAD/GET archive). */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: the type in the high bits (directory 1<<31, symlink 1<<27), not S_IFMT. */
  mode: number;
  /** RFC 3339 with nanoseconds. */
  mtime: string;
  /** For a symlink, where it leads, resolved inside the container's root; '' otherwise. */
  linkTarget: string;
}
