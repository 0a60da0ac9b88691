/** Wire shapes of diff, commit, history and disk usage (Engine API v1.50). */
import type { ContainerSummary } from './containers.js';
import type { ImageSummary } from './images.js';

/** GET /containers/{id}/changes entry. Kind: 0 modified, 1 added, 2 deleted. */
export interface ContainerChangeResponseItem {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** POST /commit (IdResponse). */
export interface CommitResponse {
  Id: string;
}

/** GET /images/{name}/history entry, newest first. */
export interface HistoryResponseItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** GET /system/df */
export interface SystemDataUsageResponse {
  LayersSize: number;
  Images: ImageSummary[] | null;
  Containers: ContainerSummary[] | null;
  /** Docker's Volume objects with UsageData { Size, RefCount }, from the volumes service. */
  Volumes: unknown[] | null;
  BuildCache: unknown[] | null;
}

/** POST /build/prune */
export interface BuildCachePruneResponse {
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}
