/** Docker Engine API v1.50 wire shapes for exec instances (types only). */

export interface ExecCreateResponse {
  Id: string;
}

/** GET /exec/{id}/json (moby's container.ExecInspect). */
export interface ExecInspectResponse {
  ID: string;
  Running: boolean;
  /** null while the process runs or before it started. */
  ExitCode: number | null;
  ProcessConfig: {
    tty: boolean;
    entrypoint: string;
    arguments: string[];
    privileged: boolean;
    /** Left out when the exec runs as the container's user. */
    user?: string;
  };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  Pid: number;
}
