import type { Image } from '../../engine/images/image-store.js';
import type { ImageContainerConfig, ImageInspect, ImageSummary } from '../../wire/images.js';
import { versionAtLeast } from '../version.js';

function createdSeconds(image: Image): number {
  return image.config.created ? Math.floor(Date.parse(image.config.created) / 1000) : 0;
}

/** GET /images/json entry. */
export function imageSummary(image: Image, repoTags: string[], apiVersion: string): ImageSummary {
  const summary: ImageSummary = {
    Containers: -1,
    Created: createdSeconds(image),
    Id: image.id,
    Labels: image.config.config?.Labels ?? null,
    ParentId: image.parent ?? '',
    RepoDigests: [],
    RepoTags: repoTags,
    SharedSize: -1,
    Size: image.size,
  };
  // VirtualSize left the API in 1.44; older clients still read it.
  if (!versionAtLeast(apiVersion, '1.44')) summary.VirtualSize = image.size;
  return summary;
}

/** The image's Config with every container-config field present, as dockerd shows it. */
function fullConfig(image: Image): ImageContainerConfig {
  const c = image.config.config ?? {};
  return {
    Hostname: '',
    Domainname: '',
    User: c.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ExposedPorts: c.ExposedPorts,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    Image: '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    StopSignal: c.StopSignal,
  };
}

/** GET /images/{name}/json */
export function imageInspect(image: Image, repoTags: string[], graphDriver: { name: string; data: Record<string, string> }): ImageInspect {
  return {
    Id: image.id,
    RepoTags: repoTags,
    RepoDigests: [],
    Parent: image.parent ?? '',
    Comment: image.config.comment ?? '',
    Created: image.config.created ?? '',
    DockerVersion: image.config.docker_version ?? '',
    Author: image.config.author ?? '',
    Config: fullConfig(image),
    Architecture: image.config.architecture,
    Os: image.config.os,
    Size: image.size,
    GraphDriver: { Data: graphDriver.data, Name: graphDriver.name },
    RootFS: { Type: 'layers', Layers: image.config.rootfs.diff_ids },
    Metadata: { LastTagTime: image.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}
