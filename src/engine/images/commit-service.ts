/**
 * `docker commit`: a container's changes become the one new layer of an image made from the
 * container's image, as moby's daemon/commit.go and image.NewChildImage do. The container is
 * paused while its layer is read (unless asked not to), the layer holds only what the container
 * changed (its diff, whiteouts for deletions), and the history gains one entry.
 */
import { conflict, invalidParameter, notFound } from '../../common/errors.js';
import type { ContainerRecord } from '../containers/model.js';
import type { EventBus } from '../events/event-bus.js';
import type { LayerStore } from '../../storage/layer-store.js';
import { applyConfigChanges } from './config-changes.js';
import type { ContainerConfigFields, ImageConfig } from './image-config.js';
import type { Image, ImageStore } from './image-store.js';
import { taggedName } from './image-service.js';
import { parseNormalisedNamed } from './reference.js';

export interface CommitRequest {
  /** Container id or name. */
  container: string;
  repo?: string;
  tag?: string;
  author?: string;
  comment?: string;
  /** Dockerfile instructions applied to the config (`--change`). */
  changes: string[];
  /** Pause a running container while its layer is read (Docker's default). */
  pause: boolean;
  /** The request body's Config: replaces the container's, which then fills in what it leaves empty. */
  config?: ContainerConfigFields;
}

/** What commit needs of the containers' side (ContainerService). */
export interface CommitContainers {
  inspect(idOrName: string): ContainerRecord;
  pause(idOrName: string): Promise<void>;
  unpause(idOrName: string): Promise<void>;
  exclusive<T>(record: ContainerRecord, job: () => Promise<T>): Promise<T>;
  publish(action: 'commit', record: ContainerRecord, details: Record<string, string>): void;
}

/** The image-config fields a container's Config carries over into a committed image. */
export function imageFieldsOf(config: ContainerRecord['config']): ContainerConfigFields {
  const fields: ContainerConfigFields = {
    User: config.User,
    ExposedPorts: config.ExposedPorts,
    Env: config.Env,
    Entrypoint: config.Entrypoint,
    Cmd: config.Cmd,
    Volumes: config.Volumes,
    WorkingDir: config.WorkingDir,
    Labels: config.Labels,
    StopSignal: config.StopSignal,
    OnBuild: config.OnBuild,
    Healthcheck: config.Healthcheck,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as ContainerConfigFields;
}

/**
 * moby's daemon/commit.go merge(): what the committed config leaves empty comes from the
 * container's config; ports, volumes, labels and environment variables add up.
 */
export function mergeCommitConfig(config: ContainerConfigFields, base: ContainerConfigFields): ContainerConfigFields {
  const merged = structuredClone(config);
  if (!merged.User) merged.User = base.User;
  if (base.ExposedPorts) merged.ExposedPorts = { ...base.ExposedPorts, ...(merged.ExposedPorts ?? {}) };
  if (!merged.Env || merged.Env.length === 0) merged.Env = base.Env;
  else if (base.Env) {
    const keys = new Set(merged.Env.map((entry) => entry.split('=')[0]));
    merged.Env = [...merged.Env, ...base.Env.filter((entry) => !keys.has(entry.split('=')[0]))];
  }
  if (base.Labels) merged.Labels = { ...base.Labels, ...(merged.Labels ?? {}) };
  if (!merged.Entrypoint || merged.Entrypoint.length === 0) {
    if (!merged.Cmd || merged.Cmd.length === 0) merged.Cmd = base.Cmd;
    if (merged.Entrypoint === undefined || merged.Entrypoint === null || merged.Entrypoint.length === 0) merged.Entrypoint = base.Entrypoint;
  }
  if (!merged.Healthcheck) merged.Healthcheck = base.Healthcheck;
  if (!merged.WorkingDir) merged.WorkingDir = base.WorkingDir;
  if (base.Volumes) merged.Volumes = { ...base.Volumes, ...(merged.Volumes ?? {}) };
  if (!merged.StopSignal) merged.StopSignal = base.StopSignal;
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)) as ContainerConfigFields;
}

export class CommitService {
  constructor(
    private readonly containers: CommitContainers,
    private readonly images: ImageStore,
    private readonly layers: LayerStore,
    private readonly events: EventBus,
  ) {}

  async commit(request: CommitRequest): Promise<Image> {
    const record = this.containers.inspect(request.container);
    const target = request.repo ? taggedName(request.repo, request.tag) : undefined;
    // Refused before anything is stored: a failed tag would leave the new image behind untagged.
    if (target && parseNormalisedNamed(target).digest) throw invalidParameter('refusing to create a tag with a digest reference');
    // Checked before anything is read, so a bad --change costs nothing.
    const containerFields = imageFieldsOf(record.config);
    const config = mergeCommitConfig(applyConfigChanges(request.config ?? containerFields, request.changes), containerFields);
    if (record.state.Dead) throw conflict(`You cannot commit container ${record.id} which is Dead`);
    const pause = request.pause && record.state.Running && !record.state.Paused;
    if (pause) await this.containers.pause(record.id);
    let image: Image;
    try {
      image = await this.containers.exclusive(record, () => this.commitLayer(record, request, config, target));
    } finally {
      if (pause) await this.containers.unpause(record.id).catch(() => undefined);
    }
    this.containers.publish('commit', record, { comment: request.comment ?? '', imageID: image.id, imageRef: target ?? '' });
    if (target) this.events.publish('image', 'tag', image.id, { ...(image.config.config?.Labels ?? {}), name: target });
    return image;
  }

  private async commitLayer(record: ContainerRecord, request: CommitRequest, config: ContainerConfigFields, target: string | undefined): Promise<Image> {
    // Removed with `rmi -f` while the container stayed: its layers are there, its config is not.
    const parent = this.images.byId(record.image);
    if (!parent) throw notFound(`No such image: ${record.image}`);
    const created = new Date().toISOString();
    const image = await this.images.addLayeredImage(
      (blobPath) => this.layers.containerLayerDiffToFile(record.id, blobPath),
      parent,
      ({ diffId, empty }): ImageConfig => ({
        architecture: parent.config.architecture,
        os: parent.config.os,
        created,
        ...(request.author ? { author: request.author } : {}),
        config,
        container: record.id,
        rootfs: { type: 'layers', diff_ids: [...parent.config.rootfs.diff_ids, ...(empty ? [] : [diffId])] },
        history: [
          ...(parent.config.history ?? []),
          {
            created,
            ...(request.author ? { author: request.author } : {}),
            created_by: (record.config.Cmd ?? []).join(' '),
            ...(request.comment ? { comment: request.comment } : {}),
            ...(empty ? { empty_layer: true } : {}),
          },
        ],
      }),
    );
    if (target) await this.images.tag(image.id, target);
    return image;
  }
}
