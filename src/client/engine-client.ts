/**
 * A typed Docker Engine API v1.50 client for berthd (or any Docker daemon) on a unix socket.
 * Methods map one-to-one onto endpoints; names and parameters follow the API, not the CLI.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { HttpResponse } from './http-exchange.js';
import { HttpTransport, readText, type QueryValue } from './http-transport.js';
import type { DaemonAddress } from './socket-address.js';
import { readJsonLines, readLines, readProgress, type ProgressMessage } from './json-lines.js';
import type { EventMessage, ReceivedEvent } from './types-cli.js';
import { VOLUME_EXPORT_PATH, VOLUME_IMPORT_PATH, type Volume, type VolumeCreateBody, type VolumeListResponse, type VolumePruneResponse } from '../wire/volumes.js';
import type {
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerUpdateRequest,
  ContainerUpdateResponse,
  ContainerInspect,
  ContainerPathStat,
  ContainerPruneResponse,
  ContainerSummary,
  ExecCreateRequest,
  ExecInspect,
  StatsResponse,
  TopResponse,
  Filters,
  ImageDeleteResponseItem,
  ImageInspect,
  ImageSummary,
  SystemInfo,
  VersionResponse,
  ContainerChange,
  CommitResponse,
  HistoryResponseItem,
  SystemDataUsageResponse,
  WaitCondition,
  WaitResponse,
  Network,
  NetworkCreateRequest,
  NetworkCreateResponse,
  NetworkConnectRequest,
  NetworkPruneResponse,
} from './types.js';

/** A wait whose response headers have arrived; its body comes when the condition is met. */
export interface PendingWait {
  result: Promise<WaitResponse>;
  /** Drops the connection, as `docker run -d` does once the container has started. */
  abandon(): void;
}

export interface LogsOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  timestamps?: boolean;
  /** Each line prefixed with the log attributes (labels, env) its driver keeps. */
  details?: boolean;
  tail?: string;
  /** Unix seconds (fractions allowed), as the API takes them. */
  since?: string;
  until?: string;
}

export interface AttachOptions {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** The escape sequence the daemon watches for on a TTY attach ("ctrl-p,ctrl-q"). */
  detachKeys?: string;
}

export interface EventsOptions {
  /** API timestamps (Unix seconds, fractions allowed). */
  since?: string;
  until?: string;
  filters?: Filters;
}

export interface ImportOptions {
  repo?: string;
  tag?: string;
  changes?: readonly string[];
  message?: string;
  /** "os[/arch[/variant]]" the image is for. */
  platform?: string;
}

export interface CommitOptions {
  container: string;
  repo?: string;
  tag?: string;
  author?: string;
  comment?: string;
  changes?: readonly string[];
  pause?: boolean;
}

const encode = encodeURIComponent;

const PATH_STAT_HEADER = 'x-docker-container-path-stat';

function decodePathStat(header: string | undefined): ContainerPathStat {
  if (header === undefined) throw new Error('the daemon sent no X-Docker-Container-Path-Stat header');
  return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as ContainerPathStat;
}
const filtersQuery = (filters: Filters | undefined) =>
  filters && Object.keys(filters).length > 0 ? JSON.stringify(filters) : undefined;

export class EngineClient {
  private readonly transport: HttpTransport;

  /**
   * `address` is the daemon's (a string is a unix socket's path); `headers` go with every request
   * (the docker CLI's HttpHeaders configuration).
   */
  constructor(address: string | DaemonAddress, headers?: Readonly<Record<string, string>>) {
    this.transport = new HttpTransport(typeof address === 'string' ? { path: address } : address, headers);
  }

  close(): void {
    this.transport.close();
  }

  // --- system

  /** `HEAD /_ping`, unversioned, as every docker CLI invocation starts. */
  async ping(): Promise<{ apiVersion?: string; osType?: string }> {
    const response = await this.transport.request('HEAD', '/_ping', { versioned: false });
    response.resume();
    return { apiVersion: response.headers['api-version'], osType: response.headers.ostype };
  }

  version(): Promise<VersionResponse> {
    return this.transport.json('GET', '/version');
  }

  info(): Promise<SystemInfo> {
    return this.transport.json('GET', '/info');
  }

  /** `GET /events`: past events from `since`, then new ones as they happen, until `until` (if given). */
  async *events(options: EventsOptions = {}): AsyncGenerator<ReceivedEvent> {
    const response = await this.transport.request('GET', '/events', {
      query: { since: options.since, until: options.until, filters: filtersQuery(options.filters) },
    });
    for await (const line of readLines(response)) {
      const message = JSON.parse(line) as EventMessage;
      // JSON.parse rounds timeNano to a double; the digits on the line are exact.
      const nanos = /"timeNano":\s*(\d+)/.exec(line)?.[1];
      yield { message, line, timeNano: nanos ? BigInt(nanos) : BigInt(message.time ?? 0) * 1_000_000_000n };
    }
  }

  // --- containers

  createContainer(config: ContainerCreateRequest, name?: string, platform?: string): Promise<ContainerCreateResponse> {
    return this.transport.json('POST', '/containers/create', { query: { name, platform }, json: config });
  }

  /** `POST /containers/{id}/update`: resources and restart policy; resolves with the daemon's warnings. */
  updateContainer(id: string, update: ContainerUpdateRequest): Promise<ContainerUpdateResponse> {
    return this.transport.json('POST', `/containers/${encode(id)}/update`, { json: update });
  }

  startContainer(id: string): Promise<void> {
    return this.transport.discard('POST', `/containers/${encode(id)}/start`);
  }

  /** Resolves also when the container was already stopped (304), as Docker treats it. */
  stopContainer(id: string, options: { timeout?: number; signal?: string } = {}): Promise<void> {
    return this.transport.discard('POST', `/containers/${encode(id)}/stop`, {
      query: { t: options.timeout, signal: options.signal },
    });
  }

  restartContainer(id: string, options: { timeout?: number; signal?: string } = {}): Promise<void> {
    return this.transport.discard('POST', `/containers/${encode(id)}/restart`, {
      query: { t: options.timeout, signal: options.signal },
    });
  }

  renameContainer(id: string, name: string): Promise<void> {
    return this.transport.discard('POST', `/containers/${encode(id)}/rename`, { query: { name } });
  }

  killContainer(id: string, signal?: string): Promise<void> {
    return this.transport.discard('POST', `/containers/${encode(id)}/kill`, { query: { signal } });
  }

  pauseContainer(id: string): Promise<void> {
    return this.transport.discard('POST', `/containers/${encode(id)}/pause`);
  }

  unpauseContainer(id: string): Promise<void> {
    return this.transport.discard('POST', `/containers/${encode(id)}/unpause`);
  }

  removeContainer(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return this.transport.discard('DELETE', `/containers/${encode(id)}`, {
      query: { force: options.force, v: options.volumes },
    });
  }

  /** Removes every stopped container the filters (until, label, label!) let through. */
  pruneContainers(filters?: Filters): Promise<ContainerPruneResponse> {
    return this.transport.json('POST', '/containers/prune', { query: { filters: filtersQuery(filters) } });
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.transport.json('GET', `/containers/${encode(id)}/json`);
  }

  listContainers(options: { all?: boolean; limit?: number; size?: boolean; filters?: Filters } = {}) {
    return this.transport.json<ContainerSummary[]>('GET', '/containers/json', {
      query: { all: options.all, limit: options.limit, size: options.size, filters: filtersQuery(options.filters) },
    });
  }

  /** The raw log body: multiplexed frames unless the container has a TTY (see FrameDemuxer). */
  containerLogs(id: string, options: LogsOptions): Promise<HttpResponse> {
    return this.transport.request('GET', `/containers/${encode(id)}/logs`, { query: { ...options } });
  }

  resizeContainer(id: string, size: { height: number; width: number }): Promise<void> {
    return this.transport.discard('POST', `/containers/${encode(id)}/resize`, {
      query: { h: size.height, w: size.width },
    });
  }

  /**
   * Hijacks a connection for the container's streams. Write stdin raw to the socket and call
   * `end()` on it at stdin EOF (a half-close); output keeps arriving until the daemon closes.
   */
  attachContainer(id: string, options: AttachOptions): Promise<Socket> {
    return this.transport.hijack(`/containers/${encode(id)}/attach`, {
      stream: true,
      stdin: options.stdin,
      stdout: options.stdout,
      stderr: options.stderr,
      detachKeys: options.detachKeys,
    });
  }

  /**
   * Resolves as soon as the wait response headers arrive: the docker CLI starts a container only
   * then, so that the exit cannot slip between start and wait.
   */
  async waitContainer(id: string, condition: WaitCondition): Promise<PendingWait> {
    const response = await this.transport.request('POST', `/containers/${encode(id)}/wait`, { query: { condition } });
    const result = readText(response).then((body) => JSON.parse(body) as WaitResponse);
    // An abandoned wait rejects; nobody awaits it then, so keep that from being an unhandled rejection.
    result.catch(() => undefined);
    return { result, abandon: () => response.destroy() };
  }

  /** `GET /containers/{id}/top`: the container's processes as `ps` (with `psArgs`, default -ef) lists them. */
  topContainer(id: string, psArgs?: string): Promise<TopResponse> {
    return this.transport.json('GET', `/containers/${encode(id)}/top`, { query: { ps_args: psArgs } });
  }

  /** `GET /containers/{id}/stats`: one sample a second while `stream`, else one (primed a second, unless `oneShot`). */
  async *containerStats(id: string, options: { stream: boolean; oneShot?: boolean }): AsyncGenerator<StatsResponse> {
    const response = await this.transport.request('GET', `/containers/${encode(id)}/stats`, {
      query: { stream: options.stream ? '1' : '0', 'one-shot': options.oneShot },
    });
    yield* readJsonLines<StatsResponse>(response);
  }

  // --- exec

  createExec(container: string, config: ExecCreateRequest): Promise<{ Id: string }> {
    return this.transport.json('POST', `/containers/${encode(container)}/exec`, { json: config });
  }

  /** Starts an exec in the background (`docker exec -d`). */
  startExecDetached(id: string, options: { tty?: boolean } = {}): Promise<void> {
    return this.transport.discard('POST', `/exec/${encode(id)}/start`, { json: { Detach: true, Tty: options.tty ?? false } });
  }

  /** Starts an exec on a hijacked connection, as `attachContainer` (stdin raw, output framed unless a TTY). */
  attachExec(id: string, options: { tty: boolean; consoleSize?: [number, number] }): Promise<Socket> {
    return this.transport.hijack(`/exec/${encode(id)}/start`, {}, { Detach: false, Tty: options.tty, ConsoleSize: options.consoleSize ?? null });
  }

  inspectExec(id: string): Promise<ExecInspect> {
    return this.transport.json('GET', `/exec/${encode(id)}/json`);
  }

  resizeExec(id: string, size: { height: number; width: number }): Promise<void> {
    return this.transport.discard('POST', `/exec/${encode(id)}/resize`, { query: { h: size.height, w: size.width } });
  }

  /** HEAD archive: the stat of `path` in the container. */
  async statContainerPath(id: string, path: string): Promise<ContainerPathStat> {
    const response = await this.transport.request('HEAD', `/containers/${encode(id)}/archive`, { query: { path } });
    response.destroy();
    return decodePathStat(response.headers[PATH_STAT_HEADER]);
  }

  /** GET archive: the stat of `path` and the tar of it (a stream the caller consumes or destroys). */
  async copyFromContainer(id: string, path: string): Promise<{ stat: ContainerPathStat; content: HttpResponse }> {
    const content = await this.transport.request('GET', `/containers/${encode(id)}/archive`, { query: { path } });
    return { stat: decodePathStat(content.headers[PATH_STAT_HEADER]), content };
  }

  /** PUT archive: unpacks the tar `content` into the directory `path` of the container. */
  copyToContainer(id: string, path: string, content: Readable, options: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<void> {
    return this.transport.discard('PUT', `/containers/${encode(id)}/archive`, {
      query: { path, noOverwriteDirNonDir: options.noOverwriteDirNonDir, copyUIDGID: options.copyUIDGID },
      body: content,
      headers: { 'Content-Type': 'application/x-tar' },
    });
  }

  /** The tar of the container's filesystem. */
  exportContainer(id: string): Promise<HttpResponse> {
    return this.transport.request('GET', `/containers/${encode(id)}/export`);
  }

  // --- images

  listImages(options: { all?: boolean; filters?: Filters } = {}): Promise<ImageSummary[]> {
    return this.transport.json('GET', '/images/json', {
      query: { all: options.all, filters: filtersQuery(options.filters) },
    });
  }

  inspectImage(name: string): Promise<ImageInspect> {
    return this.transport.json('GET', `/images/${encode(name)}/json`);
  }

  removeImage(name: string, options: { force?: boolean; noprune?: boolean } = {}) {
    return this.transport.json<ImageDeleteResponseItem[]>('DELETE', `/images/${encode(name)}`, {
      query: { force: options.force, noprune: options.noprune },
    });
  }

  tagImage(source: string, target: { repo: string; tag?: string }): Promise<void> {
    return this.transport.discard('POST', `/images/${encode(source)}/tag`, { query: { ...target } });
  }

  // --- diff, commit, history, disk usage, prune

  /** What the container changed in its image's files; null when nothing. */
  containerChanges(id: string): Promise<ContainerChange[] | null> {
    return this.transport.json('GET', `/containers/${encode(id)}/changes`);
  }

  commitContainer(options: CommitOptions): Promise<CommitResponse> {
    // Docker pauses unless told pause=0; the transport leaves false values out.
    return this.transport.json('POST', '/commit', { query: { ...options, pause: options.pause === false ? '0' : undefined } });
  }

  imageHistory(name: string): Promise<HistoryResponseItem[]> {
    return this.transport.json('GET', `/images/${encode(name)}/history`);
  }

  diskUsage(): Promise<SystemDataUsageResponse> {
    return this.transport.json('GET', '/system/df');
  }

  /** POST /{kind}/prune; each kind answers its own report (ImagesDeleted, ContainersDeleted, …, SpaceReclaimed). */
  /** `query`: the endpoint's own parameters beside `filters` (build's `all`). */
  prune<T>(kind: 'containers' | 'images' | 'networks' | 'volumes' | 'build', filters?: Filters, query: Record<string, QueryValue> = {}): Promise<T> {
    return this.transport.json('POST', `/${kind}/prune`, { query: { ...query, filters: filtersQuery(filters) } });
  }

  /** Imports a root filesystem tar as a one-layer image; the last status is the new image ID. */
  async *importImage(tar: Readable, options: ImportOptions): AsyncGenerator<ProgressMessage> {
    const response = await this.transport.request('POST', '/images/create', {
      query: { fromSrc: '-', ...options },
      body: tar,
      headers: { 'Content-Type': 'text/plain' },
    });
    yield* readProgress(response);
  }

  /**
   * POST /build: `tar` is the context; the answer is the builder's JSON message stream, yielded
   * as it comes, errors included (a failed RUN's exit code is in `errorDetail.code`).
   * `registryConfig`: the X-Registry-Config value, for the images the build pulls.
   */
  async *buildImage(tar: Readable, query: Record<string, QueryValue>, registryConfig?: string): AsyncGenerator<ProgressMessage & { stream?: string }> {
    const headers = { 'Content-Type': 'application/x-tar', ...(registryConfig && { 'X-Registry-Config': registryConfig }) };
    const response = await this.transport.request('POST', '/build', { query, body: tar, headers });
    yield* readJsonLines<ProgressMessage & { stream?: string }>(response);
  }

  /** `docker save`: the archive of the named images, as a stream. */
  saveImages(names: string[]): Promise<HttpResponse> {
    return this.transport.request('GET', '/images/get', { query: { names } });
  }

  /** `docker load`: the archive goes in the body; the messages carry the "Loaded image" lines. */
  async *loadImages(archive: Readable, options: { quiet?: boolean } = {}): AsyncGenerator<ProgressMessage> {
    const response = await this.transport.request('POST', '/images/load', {
      query: { quiet: options.quiet },
      body: archive,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    yield* readProgress(response);
  }

  /**
   * Pulls an image. `registryAuth` is the X-Registry-Auth value (base64url JSON of the
   * credentials); base64 of "{}" means none, as the docker CLI sends for anonymous pulls.
   */
  async *pullImage(
    image: { fromImage: string; tag?: string; platform?: string; allTags?: boolean },
    registryAuth = 'e30=',
  ): AsyncGenerator<ProgressMessage> {
    const response = await this.transport.request('POST', '/images/create', {
      query: { fromImage: image.fromImage, tag: image.tag, platform: image.platform, 'all-tags': image.allTags },
      headers: { 'X-Registry-Auth': registryAuth },
    });
    yield* readProgress(response);
  }

  listNetworks(filters?: Filters): Promise<Network[]> {
    return this.transport.json('GET', '/networks', { query: { filters: filtersQuery(filters) } });
  }

  inspectNetwork(name: string): Promise<Network> {
    return this.transport.json('GET', `/networks/${encode(name)}`);
  }

  createNetwork(request: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    return this.transport.json('POST', '/networks/create', { json: request });
  }

  removeNetwork(name: string): Promise<void> {
    return this.transport.discard('DELETE', `/networks/${encode(name)}`);
  }

  pruneNetworks(filters?: Filters): Promise<NetworkPruneResponse> {
    return this.transport.json('POST', '/networks/prune', { query: { filters: filtersQuery(filters) } });
  }

  connectNetwork(network: string, request: NetworkConnectRequest): Promise<void> {
    return this.transport.discard('POST', `/networks/${encode(network)}/connect`, { json: request });
  }

  disconnectNetwork(network: string, container: string, force: boolean): Promise<void> {
    return this.transport.discard('POST', `/networks/${encode(network)}/disconnect`, { json: { Container: container, Force: force } });
  }

  // --- volumes

  createVolume(request: VolumeCreateBody): Promise<Volume> {
    return this.transport.json('POST', '/volumes/create', { json: request });
  }

  listVolumes(options: { filters?: Filters } = {}): Promise<VolumeListResponse> {
    return this.transport.json('GET', '/volumes', { query: { filters: filtersQuery(options.filters) } });
  }

  inspectVolume(name: string): Promise<Volume> {
    return this.transport.json('GET', `/volumes/${encode(name)}`);
  }

  removeVolume(name: string, options: { force?: boolean } = {}): Promise<void> {
    return this.transport.discard('DELETE', `/volumes/${encode(name)}`, { query: { force: options.force } });
  }

  pruneVolumes(options: { filters?: Filters } = {}): Promise<VolumePruneResponse> {
    return this.transport.json('POST', '/volumes/prune', { query: { filters: filtersQuery(options.filters) } });
  }

  /** Berth's own: the tar of a volume's content. */
  exportVolume(name: string): Promise<HttpResponse> {
    return this.transport.request('GET', VOLUME_EXPORT_PATH(name));
  }

  /** Berth's own: unpacks a tar into a volume. */
  importVolume(name: string, content: Readable): Promise<void> {
    return this.transport.discard('PUT', VOLUME_IMPORT_PATH(name), { body: content, headers: { 'Content-Type': 'application/x-tar' } });
  }

  /** Pushes `name` (every tag of it when `tag` is empty); the last message's aux names the digest. */
  async *pushImage(name: string, tag: string | undefined, registryAuth = 'e30='): AsyncGenerator<ProgressMessage> {
    const response = await this.transport.request('POST', `/images/${encode(name)}/push`, {
      query: { tag },
      headers: { 'X-Registry-Auth': registryAuth },
    });
    yield* readProgress(response);
  }

  /** POST /auth: asks the daemon to check credentials against a registry. */
  checkRegistryLogin(auth: { username?: string; password?: string; serveraddress: string }): Promise<{ Status: string; IdentityToken?: string }> {
    return this.transport.json('POST', '/auth', { json: auth });
  }

}
