/**
 * `docker push`: uploads an image's layer blobs as they were received (concurrently, bounded by
 * max-concurrent-uploads), skipping those the repository has (HEAD) and mounting those another
 * repository of the registry has, then the config and a Docker v2 schema 2 manifest under the
 * tag. The manifest is built the same way every time, so pushing an image pulled from a registry
 * recreates the manifest it was pulled as when its layers are stored as the registry sent them.
 */
import { invalidParameter, notFound } from '../../common/errors.js';
import type { ContentStore } from '../../storage/content-store.js';
import { sha256Digest, type Digest } from '../../storage/digest.js';
import { sendFile } from '../../storage/file-sender.js';
import { Semaphore } from '../../storage/semaphore.js';
import type { EventBus } from '../events/event-bus.js';
import type { Image, ImageStore } from '../images/image-store.js';
import { familiarRepository, familiarString, parseNormalisedNamed, parseReference, type Reference } from '../images/reference.js';
import type { BlobSources } from './blob-sources.js';
import { dockerLayerType, dockerManifestBytes, MEDIA_TYPE } from './manifest.js';
import { progressBar } from './progress-bar.js';
import type { Credentials } from './registry-auth.js';
import { repositoryScope } from './registry-auth.js';
import type { RegistryClient } from './registry-client.js';
import type { RegistrySessions } from './registry-sessions.js';
import type { ProgressSink } from './pull-service.js';
import type { Writable } from 'node:stream';

export interface PushRequest {
  /** The repository, maybe with a tag: "localhost:5000/app" or "localhost:5000/app:v1". */
  name: string;
  /** A tag; empty pushes every tag of the repository. */
  tag?: string;
  credentials: Credentials;
}

const shortId = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

export class PushService {
  private readonly uploads: Semaphore;

  constructor(
    private readonly deps: {
      content: ContentStore;
      images: ImageStore;
      events: EventBus;
      sessions: RegistrySessions;
      sources: BlobSources;
      maxConcurrentUploads: number;
    },
  ) {
    this.uploads = new Semaphore(deps.maxConcurrentUploads);
  }

  async push(request: PushRequest, progress: ProgressSink, signal: AbortSignal): Promise<void> {
    const repo = parseReference(request.name);
    if (repo.digest) throw invalidParameter('cannot push a digest reference');
    const tags = this.tagsToPush(repo, request.tag);
    const client = await this.deps.sessions.client(repo, 'push', request.credentials, signal);
    progress({ status: `The push refers to repository [${repo.domain}/${repo.path}]` });
    for (const tag of tags) {
      const ref: Reference = { domain: repo.domain, path: repo.path, tag };
      const image = this.deps.images.resolve(familiarString(ref));
      await this.pushImage(client, ref, image, progress, signal);
    }
  }

  /** The tags a push covers: the one asked for, else every tag of the repository (moby's rule). */
  private tagsToPush(repo: Reference, tag: string | undefined): string[] {
    const wanted = tag || repo.tag;
    if (wanted) {
      const ref = parseNormalisedNamed(`${familiarRepository(repo)}:${wanted}`);
      this.deps.images.resolve(familiarString(ref));
      return [wanted];
    }
    const tags = this.deps.images
      .list()
      .flatMap((image) => this.deps.images.repoTags(image.id))
      .map((name) => parseNormalisedNamed(name))
      .filter((ref) => ref.domain === repo.domain && ref.path === repo.path && ref.tag)
      .map((ref) => ref.tag!);
    if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarRepository(repo)}`);
    return tags.sort();
  }

  private async pushImage(client: RegistryClient, ref: Reference, image: Image, progress: ProgressSink, signal: AbortSignal): Promise<void> {
    if (image.layerBlobs.length !== image.config.rootfs.diff_ids.length) {
      throw invalidParameter(`image ${image.id} was stored without its layer blobs and cannot be pushed; save and load it, or import it again`);
    }
    const repository = `${ref.domain}/${ref.path}`;
    const mountFrom = new Map<Digest, string>();
    for (const blob of image.layerBlobs) {
      const source = this.deps.sources.get(blob.digest).find((r) => r !== repository && r.startsWith(`${ref.domain}/`));
      if (source) mountFrom.set(blob.digest, source.slice(ref.domain.length + 1));
    }
    const scopes = client.scopes(['pull', 'push'], [...new Set(mountFrom.values())].map((path) => repositoryScope(path, ['pull'])));
    const layers = [...image.layerBlobs].reverse();
    for (const blob of layers) progress({ status: 'Preparing', progressDetail: {}, id: shortId(blob.diffId) });
    // One authorised request first, so the concurrent uploads below start with a token; it is
    // also the config's HEAD check.
    const [configPresent, config] = await Promise.all([client.blobExists(image.id as Digest, scopes), this.deps.content.read(image.id)]);
    // The config goes up beside the layers (it shows no progress; only the manifest must come last).
    const configUpload = configPresent ? Promise.resolve() : client.uploadBlob(image.id as Digest, config.length, config, scopes);
    configUpload.catch(() => undefined);
    await Promise.all([...layers.map((blob) => this.pushLayer(client, blob, mountFrom.get(blob.digest), scopes, progress, signal)), configUpload]);
    const manifest = dockerManifestBytes(
      { digest: image.id as Digest, size: config.length },
      image.layerBlobs.map((b) => ({ mediaType: dockerLayerType(b.mediaType), digest: b.digest, size: b.size })),
    );
    const digest = sha256Digest(manifest);
    await client.putManifest(ref.tag!, MEDIA_TYPE.dockerManifest, manifest, scopes);
    await Promise.all([this.deps.sources.add([...image.layerBlobs.map((b) => b.digest)], repository), this.deps.images.addRepoDigest(image.id, ref, digest)]);
    progress({ status: `${ref.tag}: digest: ${digest} size: ${manifest.length}` });
    progress({ progressDetail: {}, aux: { Tag: ref.tag!, Digest: digest, Size: manifest.length } });
    this.deps.events.publish('image', 'push', familiarString(ref), { ...(image.config.config?.Labels ?? {}), name: familiarString(ref) });
  }

  private async pushLayer(
    client: RegistryClient,
    blob: Image['layerBlobs'][number],
    mountSource: string | undefined,
    scopes: string[],
    progress: ProgressSink,
    signal: AbortSignal,
  ): Promise<void> {
    const id = shortId(blob.diffId);
    const waitTimer = setImmediate(() => progress({ status: 'Waiting', progressDetail: {}, id }));
    const release = await this.uploads.acquire(signal).finally(() => clearImmediate(waitTimer));
    try {
      if (await client.blobExists(blob.digest, scopes)) return progress({ status: 'Layer already exists', progressDetail: {}, id });
      if (mountSource && (await client.mountBlob(blob.digest, mountSource, scopes))) {
        return progress({ status: `Mounted from ${mountSource}`, progressDetail: {}, id });
      }
      await client.uploadBlob(blob.digest, blob.size, (request) => this.sendLayer(blob, request, id, progress), scopes);
      progress({ status: 'Pushed', progressDetail: {}, id });
    } finally {
      release();
    }
  }

  /** The layer's blob from its file into the upload's request, reporting "Pushing" as it goes out (at most every 100 ms). */
  private async sendLayer(blob: Image['layerBlobs'][number], request: Writable, id: string, progress: ProgressSink): Promise<void> {
    const file = await this.deps.content.openFile(blob.digest);
    let reported = 0;
    try {
      await sendFile(file, blob.size, request, (current) => {
        const now = performance.now();
        if (now - reported < 100 && current < blob.size) return;
        reported = now;
        progress({ status: 'Pushing', progressDetail: { current, total: blob.size }, progress: progressBar(current, blob.size), id });
      });
    } finally {
      await file.close();
    }
  }
}
