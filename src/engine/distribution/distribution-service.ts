/**
 * Registry operations of the engine: pull, push and the login check, over one set of registry
 * settings (insecure registries, mirrors, certs.d, concurrency) and one download area beside the
 * content store. Owns the registry connections; close() ends them.
 */
import { join } from 'node:path';
import type { ContentStore } from '../../storage/content-store.js';
import type { LayerStore } from '../../storage/layer-store.js';
import type { EventBus } from '../events/event-bus.js';
import type { Image, ImageStore } from '../images/image-store.js';
import { BlobDownloads } from './blob-downloads.js';
import { BlobSources } from './blob-sources.js';
import { inspectDistribution } from './distribution-inspect.js';
import { PullService, type ProgressSink, type PullRequest } from './pull-service.js';
import { PushService, type PushRequest } from './push-service.js';
import type { Credentials } from './registry-auth.js';
import { RegistryHosts, type RegistryHostsConfig } from './registry-hosts.js';
import { RegistrySessions } from './registry-sessions.js';
import type { DistributionInspect } from '../../wire/distribution.js';

export interface DistributionSettings extends RegistryHostsConfig {
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** A registry connection idle this long mid-request fails (a stalled blob). */
  stallTimeoutMs: number;
}

export class DistributionService {
  private constructor(
    private readonly content: ContentStore,
    private readonly sessions: RegistrySessions,
    private readonly pulls: PullService,
    private readonly pushes: PushService,
  ) {}

  /** `root` is the service's folder in the data root (downloads, blob sources); on the content store's filesystem. */
  static async open(
    root: string,
    stores: { content: ContentStore; layers: LayerStore; images: ImageStore; events: EventBus },
    settings: DistributionSettings,
  ): Promise<DistributionService> {
    const sessions = new RegistrySessions(new RegistryHosts(settings), { stallTimeoutMs: settings.stallTimeoutMs });
    const downloads = await BlobDownloads.open(join(root, 'downloads'), stores.content, settings.maxConcurrentDownloads);
    const sources = await BlobSources.open(root);
    return new DistributionService(
      stores.content,
      sessions,
      new PullService({ ...stores, downloads, sessions, sources }),
      new PushService({ ...stores, sessions, sources, maxConcurrentUploads: settings.maxConcurrentUploads }),
    );
  }

  pull(request: PullRequest, progress: ProgressSink, signal: AbortSignal): Promise<Image[]> {
    return this.pulls.pull(request, progress, signal);
  }

  push(request: PushRequest, progress: ProgressSink, signal: AbortSignal): Promise<void> {
    return this.pushes.push(request, progress, signal);
  }

  /** What the registry holds under `name` (GET /distribution/{name}/json), nothing pulled. */
  inspect(name: string, credentials: Credentials, signal: AbortSignal): Promise<DistributionInspect> {
    return inspectDistribution({ sessions: this.sessions, content: this.content }, name, credentials, signal);
  }

  login(serverAddress: string, credentials: Credentials): Promise<void> {
    return this.sessions.login(serverAddress, credentials);
  }

  close(): void {
    this.sessions.close();
  }
}
