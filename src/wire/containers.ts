/**
 * Docker Engine API v1.50 wire shapes for containers, as the API views write them and clients
 * read them (the names are Docker's, from its swagger definitions). Types only: nothing here
 * decides anything.
 */

export interface EndpointSettings {
  IPAMConfig: null;
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

export interface NetworkSettingsWire {
  Bridge: string;
  SandboxID: string;
  SandboxKey: string;
  Ports: Record<string, unknown>;
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
}

/** POST /containers/create body: the same fields, every one optional but Image. */
export type ContainerConfigRequest = Partial<ContainerConfigWire> & { Image: string };

export interface HostConfigRequest {
  AutoRemove?: boolean;
  ConsoleSize?: [number, number];
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  ReadonlyRootfs?: boolean;
  ShmSize?: number;
  Runtime?: string;
  NetworkMode?: string;
  RestartPolicy?: { Name: string; MaximumRetryCount: number };
  LogConfig?: { Type: string; Config: Record<string, string> };
}

export interface ContainerCreateRequest extends ContainerConfigRequest {
  HostConfig: HostConfigRequest;
}
