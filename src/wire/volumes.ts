/** Docker's volume shapes (Engine API v1.50), and Berth's own volume export/import endpoints. */

export interface VolumeUsageData {
  /** Bytes; -1 when the driver does not keep the data on this host. */
  Size: number;
  RefCount: number;
}

export interface Volume {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local' | 'global';
  Status?: Record<string, unknown>;
  UsageData?: VolumeUsageData;
}

/** POST /volumes/create */
export interface VolumeCreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** GET /volumes */
export interface VolumeListResponse {
  Volumes: Volume[];
  Warnings: string[] | null;
}

/** POST /volumes/prune */
export interface VolumePruneResponse {
  VolumesDeleted: string[] | null;
  SpaceReclaimed: number;
}

/** HostConfig.Mounts entry (the Engine API's mount.Mount), as --mount sends it. */
export interface MountWire {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> }; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
}

/** A container's `Mounts` entry in inspect and `docker ps`. */
export interface MountPointWire {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/**
 * Berth's own endpoints, which the docker CLI never calls: GET streams the volume's content as a
 * tar; PUT unpacks a tar (the request body) into it.
 */
export const VOLUME_EXPORT_PATH = (name: string) => `/volumes/${encodeURIComponent(name)}/export`;
export const VOLUME_IMPORT_PATH = (name: string) => `/volumes/${encodeURIComponent(name)}/import`;
