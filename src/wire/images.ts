/** Image endpoints' wire shapes (Engine API v1.50). */
import type { ContainerConfigWire } from './containers.js';

/** GET /images/json entry. */
export interface ImageSummary {
  Containers: number;
  Created: number;
  Id: string;
  Labels: Record<string, string> | null;
  ParentId: string;
  RepoDigests: string[];
  RepoTags: string[];
  SharedSize: number;
  Size: number;
  /** Left the API in 1.44; still sent to older clients. */
  VirtualSize?: number;
}

/** The container configuration an image carries, with every field present as dockerd shows it. */
export type ImageContainerConfig = Omit<ContainerConfigWire, 'StopTimeout'>;

/** GET /images/{name}/json */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ImageContainerConfig;
  Architecture: string;
  Os: string;
  Size: number;
  GraphDriver: { Data: Record<string, string>; Name: string };
  RootFS: { Type: 'layers'; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** DELETE /images/{name} answers a list of these; prune lists them in ImagesDeleted. */
export interface ImageDeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

/** POST /images/prune */
export interface ImagePruneResponse {
  ImagesDeleted: ImageDeleteResponseItem[] | null;
  SpaceReclaimed: number;
}

/** One line of a progress stream (POST /images/create, load, push). */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message: string };
}
