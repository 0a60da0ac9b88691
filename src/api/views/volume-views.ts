import type { Volume as EngineVolume } from '../../engine/volumes/volume-service.js';
import type { MountPoint } from '../../engine/volumes/mount-point.js';
import type { MountPointWire, Volume } from '../../wire/volumes.js';

/** A volume in Docker's field order (inspect prints it as it comes). */
export function volumeView(volume: EngineVolume, usage?: Volume['UsageData']): Volume {
  return {
    CreatedAt: volume.CreatedAt,
    Driver: volume.Driver,
    Labels: volume.Labels,
    Mountpoint: volume.Mountpoint,
    Name: volume.Name,
    Options: volume.Options,
    Scope: volume.Scope,
    ...(volume.Status && { Status: volume.Status }),
    ...(usage && { UsageData: usage }),
  };
}

/** A container's mount point as `Mounts` shows it (moby's types.MountPoint). */
export function mountPointView(point: MountPoint): MountPointWire {
  return {
    Type: point.Type,
    ...(point.Type === 'volume' && { Name: point.Name }),
    Source: point.Source,
    Destination: point.Destination,
    ...(point.Type === 'volume' && { Driver: point.Driver }),
    Mode: point.Mode,
    RW: point.RW,
    Propagation: point.Propagation,
  };
}
