/**
 * The image operations the API offers, with their policy: name checks, list and prune filters,
 * and the image events (import, tag, untag, delete, prune). Storage stays in ImageStore.
 */
import type { Readable } from 'node:stream';
import { notImplemented } from '../../common/errors.js';
import type { EventBus } from '../events/event-bus.js';
import { boolFilter, type Filters } from '../filters.js';
import { imageHistory, type HistoryItem } from './image-history.js';
import type { DeleteResponseItem, Image, ImageStore, ImageUser } from './image-store.js';
import { imageListFilter, imagePruneFilter } from './image-filters.js';
import { familiarRepository, familiarString, parseNormalisedNamed, parseReference } from './reference.js';

export interface ImageWithNames {
  image: Image;
  /** Familiar "repo:tag" names: "busybox:latest". */
  repoTags: string[];
}

export interface ImageImportRequest {
  /** Where the tar comes from; only "-" (the request body) is supported. */
  source: string;
  repo?: string;
  tag?: string;
  changes: string[];
  message?: string;
}

export interface ImagePruneReport {
  deleted: DeleteResponseItem[];
  spaceReclaimed: number;
}

const ID_OR_PREFIX = /^(sha256:)?[0-9a-f]{1,64}$/;

/**
 * Refuses a name that is neither an image id (or prefix) nor a valid reference, with Docker's
 * 400 "invalid reference format…", before any lookup could turn it into a 404.
 */
export function checkImageName(name: string): void {
  if (!ID_OR_PREFIX.test(name)) parseReference(name);
}

/** The familiar name a tag or import with `repo` (and maybe `tag`) gives: "busybox:latest". */
export function taggedName(repo: string, tag?: string): string {
  const ref = parseNormalisedNamed(repo);
  return tag ? `${familiarRepository(ref)}:${tag}` : familiarString(ref);
}

export class ImageService {
  constructor(
    private readonly store: ImageStore,
    private readonly events: EventBus,
    /** The containers using an image (rmi and prune keep images in use). */
    private readonly usersOf: (imageId: string) => ImageUser[],
  ) {}

  /**
   * GET /images/json. An untagged image another was committed from is an intermediate image:
   * listed only with `all`, and never as dangling (moby lists the image store's heads then).
   */
  list(filters: Filters, options: { all?: boolean } = {}): ImageWithNames[] {
    const keep = imageListFilter(filters, (name) => {
      checkImageName(name);
      return this.store.resolve(name);
    });
    const danglingOnly = boolFilter(filters, 'dangling') === true;
    const listed: ImageWithNames[] = [];
    for (const image of this.store.list()) {
      const names = this.store.repoTags(image.id);
      if (names.length === 0 && (!options.all || danglingOnly) && this.store.children(image.id).length > 0) continue;
      const repoTags = keep(image, names);
      if (repoTags) listed.push({ image, repoTags });
    }
    return listed;
  }

  /** GET /images/{name}/history */
  history(name: string): HistoryItem[] {
    checkImageName(name);
    const image = this.store.resolve(name);
    return imageHistory(image, {
      byId: (id) => this.store.byId(id),
      repoTags: (id) => this.store.repoTags(id),
      layerSize: (chainId) => this.store.layerSize(chainId),
    });
  }

  /** The storage driver's paths of the image's top layer (inspect's GraphDriver.Data). */
  graphDriverData(image: Image): Promise<Record<string, string>> {
    return this.store.graphDriverData(image);
  }

  inspect(name: string): ImageWithNames {
    checkImageName(name);
    const image = this.store.resolve(name);
    return { image, repoTags: this.store.repoTags(image.id) };
  }

  /** The image id a name stands for, undefined when unknown or not a valid name (filters). */
  idOf(name: string): string | undefined {
    return this.store.find(name)?.id;
  }

  async pull(name: string, tag?: string): Promise<never> {
    checkImageName(tag ? `${name}:${tag}` : name);
    throw notImplemented(
      `pulling ${name}${tag ? `:${tag}` : ''} failed: berthd cannot pull from registries yet; make local images with 'berth image busybox' or 'docker import'`,
    );
  }

  async importTar(tar: Readable, request: ImageImportRequest): Promise<Image> {
    if (request.source !== '-') {
      throw notImplemented(`importing from a URL (${request.source}) is not supported yet by berthd; send the tar in the request body with fromSrc=-`);
    }
    const image = await this.store.importTar(tar, { repo: request.repo, tag: request.tag, changes: request.changes, message: request.message });
    // dockerd tags the new image before it logs the import.
    if (request.repo) this.publish(image, 'tag', taggedName(request.repo, request.tag));
    this.publish(image, 'import', image.id);
    return image;
  }

  async tag(source: string, repo: string, tag?: string): Promise<void> {
    checkImageName(source);
    const image = this.store.resolve(source);
    await this.store.tag(source, repo, tag);
    this.publish(image, 'tag', taggedName(repo, tag));
  }

  async remove(name: string, options: { force: boolean; noPrune?: boolean }): Promise<DeleteResponseItem[]> {
    checkImageName(name);
    const image = this.store.resolve(name);
    // The parents a removal takes along are deleted too: each gets its event.
    const before = new Map(this.store.list().map((known) => [known.id, known]));
    const records = await this.store.remove(name, options, this.usersOf);
    this.publishRecords(records, before, image);
    return records;
  }

  async prune(filters: Filters): Promise<ImagePruneReport> {
    const policy = imagePruneFilter(filters);
    const before = new Map(this.store.list().map((image) => [image.id, image]));
    const { deleted, spaceReclaimed } = await this.store.prune(policy, this.usersOf);
    this.publishRecords(deleted, before);
    this.events.publish('image', 'prune', '', { reclaimed: String(spaceReclaimed) });
    return { deleted, spaceReclaimed };
  }

  /**
   * Events for delete records: each image's untags come before its "Deleted" record, so an untag
   * belongs to the next deleted image (or to `only`, for an rmi that just untagged).
   */
  private publishRecords(records: DeleteResponseItem[], images: Map<string, Image>, only?: Image): void {
    let untags = 0;
    for (const record of records) {
      if (record.Untagged !== undefined) untags++;
      if (record.Deleted === undefined) continue;
      const image = images.get(record.Deleted);
      if (image) {
        for (; untags > 0; untags--) this.publish(image, 'untag', image.id);
        this.publish(image, 'delete', image.id);
      }
    }
    if (only) for (; untags > 0; untags--) this.publish(only, 'untag', only.id);
  }

  /** As moby's LogImageEvent: the image's labels and its name as attributes. */
  private publish(image: Image, action: 'import' | 'tag' | 'untag' | 'delete', name: string): void {
    this.events.publish('image', action, image.id, { ...(image.config.config?.Labels ?? {}), name });
  }
}
