/**
 * A container's mount points as moby keeps them in config.v2.json (`MountPoints`): one per bind,
 * volume or tmpfs given with -v, --mount, the image's VOLUME entries or --volumes-from. They are
 * decided at create (volumes made, bind sources checked) and mounted at each start.
 */
import type { MountWire } from '../../wire/volumes.js';

/** HostConfig.Mounts entry (the Engine API's mount.Mount), as --mount sends it. */
export type MountRequest = MountWire;

export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** Host path: the bind's source, or the volume's path while it is mounted; '' for tmpfs. */
  Source: string;
  Destination: string;
  RW: boolean;
  /** The volume's name ('' for binds and tmpfs). */
  Name: string;
  Driver: string;
  /** The mode text given with -v (`ro,z`); '' for --mount. */
  Mode: string;
  /** A bind's propagation ('rprivate' unless given); '' for volumes and tmpfs. */
  Propagation: string;
  /** Fill a new, empty volume from the image's content at the destination (not with nocopy). */
  CopyData: boolean;
  /** The request it was made from (for --mount and the options of volumes and tmpfs). */
  Spec: MountRequest;
}

/** The label moby puts on volumes made for a container alone (anonymous: VOLUME, `-v /path`). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
