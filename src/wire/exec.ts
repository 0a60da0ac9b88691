/** Docker Engine API v1.50 wire shapes for exec instances (types only). */

/** POST /containers/{id}/exec (moby's container.ExecOptions). */
export interface ExecCreateRequest {
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
  AttachStdin?: boolean;
  AttachStderr?: boolean;
  AttachStdout?: boolean;
  DetachKeys?: string;
  Env?: string[] | null;
  WorkingDir?: string;
  Cmd: string[];
}

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
