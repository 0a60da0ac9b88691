import type { ContainerConfigWire, ContainerStateWire, ContainerStatus, EndpointSettings } from '../../wire/containers.js';
import type { PublishedPort } from './networking.js';
import type { MountPoint } from '../volumes/mount-point.js';

/**
 * An endpoint as the record keeps it: Docker's settings, and the MAC address asked for (moby's
 * DesiredMacAddress), which MacAddress shows again when the container stops. Never on the wire.
 */
export type StoredEndpoint = EndpointSettings & { DesiredMacAddress?: string };

/** `Config` of a container, kept in Docker's shape (inspect returns it as it is); labels always set. */
export interface ContainerConfig extends ContainerConfigWire {
  Labels: Record<string, string>;
}

/** The part of HostConfig the engine acts on; the rest is kept and echoed back by inspect. */
export interface HostConfig {
  AutoRemove: boolean;
  Runtime: string;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  ReadonlyRootfs: boolean;
  ShmSize: number;
  ConsoleSize: [number, number];
  NetworkMode: string;
  LogConfig: { Type: string; Config: Record<string, string> };
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  [field: string]: unknown;
}

/**
 * The state part of the record is kept in Docker's own shape (config.v2.json's, which inspect
 * shows as it is), so it is the wire type itself.
 */
export type { ContainerStatus };
export type ContainerState = ContainerStateWire;

/** Everything the engine persists about one container (DATA/containers/<id>/config.v2.json). */
export interface ContainerRecord {
  id: string;
  /** With Docker's leading slash: "/t1". */
  name: string;
  created: string;
  path: string;
  args: string[];
  /** Image id ("sha256:…"); Config.Image keeps the name as the user typed it. */
  image: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  driver: string;
  restartCount: number;
  /**
   * A user stopped or killed it (moby's HasBeenManuallyStopped): an `unless-stopped` container
   * then stays stopped, also across daemon restarts. Cleared by a start by hand.
   */
  manuallyStopped?: boolean;
  /**
   * The networks it is connected to by name, in Docker's shape: what was asked (Aliases,
   * IPAMConfig, Links, NetworkID) and, while it runs, the live endpoint (IPAddress, Gateway, …).
   * Absent or empty for the none, host and container: modes.
   */
  networks?: Record<string, StoredEndpoint>;
  /** The host ports its run published (empty when it is not running). */
  publishedPorts?: PublishedPort[];
  /** Binds, volumes and tmpfs mounts, decided at create (moby's MountPoints). */
  mountPoints?: MountPoint[];
  logPath: string;
  hostnamePath: string;
  hostsPath: string;
  resolvConfPath: string;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}
