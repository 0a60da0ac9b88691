/**
 * The Engine API shapes the client sends and reads: Docker's wire shapes, from the one module
 * (src/wire/) that berthd's API views write them with.
 */
export type {
  ContainerConfigRequest as ContainerConfig,
  HostConfigRequest as HostConfig,
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerSummary,
  Port,
  ContainerInspectResponse as ContainerInspect,
  ContainerWaitResponse as WaitResponse,
  UlimitWire as Ulimit,
  DeviceMappingWire as DeviceMapping,
  ContainerUpdateRequest,
  ContainerUpdateResponse,
  ContainerPathStat,
} from '../wire/containers.js';
export type { ExecCreateRequest, ExecInspectResponse as ExecInspect } from '../wire/exec.js';
export type { StatsResponse, TopResponse } from '../wire/stats.js';
export type { ImageSummary, ImageInspect, ImageDeleteResponseItem } from '../wire/images.js';
export type { ComponentVersion, VersionResponse, SystemInfoResponse as SystemInfo } from '../wire/system.js';
export type {
  ContainerChangeResponseItem as ContainerChange,
  CommitResponse,
  HistoryResponseItem,
  SystemDataUsageResponse,
} from '../wire/image-meta.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** `filters` query values: each key maps to the values it accepts. */
export type Filters = Record<string, string[]>;
