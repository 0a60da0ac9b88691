/**
 * Save and load as the API offers them: which images the names of a save stand for (moby's
 * tarexport parseNames rules), the lines a load reports, and the image events of both.
 */
import type { Readable } from 'node:stream';
import { notFound } from '../../common/errors.js';
import type { ContentStore } from '../../storage/content-store.js';
import type { LayerStore } from '../../storage/layer-store.js';
import type { EventBus } from '../events/event-bus.js';
import { loadImageArchive } from './image-archive-load.js';
import { saveImageArchive, type SavedImage } from './image-archive-save.js';
import { checkImageName } from './image-service.js';
import type { Image, ImageStore } from './image-store.js';
import { canonicalString, parseNormalisedNamed, parseReference, repositoryName } from './reference.js';

const FULL_HEX_ID = /^(sha256:)?[0-9a-f]{64}$/;

function throwNotFound(message: string): never {
  throw notFound(message);
}

export class ImageArchiveService {
  constructor(
    private readonly images: ImageStore,
    private readonly content: ContentStore,
    private readonly layers: LayerStore,
    private readonly events: EventBus,
  ) {}

  /** `docker save NAME…`: the archive as a stream; unknown names fail before any byte. */
  async save(names: string[]): Promise<Readable> {
    const selected = this.select(names);
    const archive = await saveImageArchive(selected, this.content, this.layers);
    for (const { image } of selected) this.publish(image, 'save');
    return archive;
  }

  /** `docker load`: the lines Docker prints for each image loaded, in order. */
  async load(input: Readable): Promise<string[]> {
    const loaded = await loadImageArchive(input, { content: this.content, layers: this.layers, images: this.images });
    const lines: string[] = [];
    for (const { image, tags, renamed } of loaded) {
      for (const [tag, oldId] of renamed) lines.push(`The image ${tag} already exists, renaming the old one with ID ${oldId} to empty string`);
      if (tags.length === 0) lines.push(`Loaded image ID: ${image.id}`);
      for (const tag of tags) lines.push(`Loaded image: ${tag}`);
      this.publish(image, 'load');
    }
    return lines;
  }

  /** The images `names` stand for, each once, with the tags to save it under. */
  private select(names: string[]): SavedImage[] {
    const selected = new Map<string, SavedImage>();
    const add = (image: Image, ref?: ReturnType<typeof parseReference>) => {
      let entry = selected.get(image.id);
      if (!entry) selected.set(image.id, (entry = { image, refs: [] }));
      if (ref && !entry.refs.some((known) => canonicalString(known) === canonicalString(ref))) entry.refs.push(ref);
    };
    for (const name of names) {
      checkImageName(name);
      if (FULL_HEX_ID.test(name) || name.startsWith('sha256:')) {
        add(this.images.resolve(name));
        continue;
      }
      const ref = parseReference(name);
      if (ref.tag === undefined && ref.digest === undefined) {
        const tagged = this.taggedIn(repositoryName(ref));
        // As moby's image store Search: by id prefix, with its own message.
        if (tagged.length === 0) add(this.images.find(name) ?? throwNotFound(`No such image: ${name}`));
        for (const [image, tag] of tagged) add(image, tag);
        continue;
      }
      // As moby's reference store.
      const image = this.images.find(name) ?? throwNotFound('reference does not exist');
      // A digest reference saves the image without a name, as Docker does.
      add(image, ref.digest ? undefined : parseNormalisedNamed(name));
    }
    return [...selected.values()];
  }

  /** Every image tagged in `repository` ("docker.io/library/busybox") with that tag. */
  private taggedIn(repository: string): Array<[Image, ReturnType<typeof parseReference>]> {
    const found: Array<[Image, ReturnType<typeof parseReference>]> = [];
    for (const image of this.images.list()) {
      for (const name of this.images.repoTags(image.id)) {
        const ref = parseNormalisedNamed(name);
        if (repositoryName(ref) === repository) found.push([image, ref]);
      }
    }
    return found.sort(([, a], [, b]) => (a.tag ?? '').localeCompare(b.tag ?? ''));
  }

  /** As moby's LogImageEvent: the image's labels, and its id as the name. */
  private publish(image: Image, action: 'save' | 'load'): void {
    this.events.publish('image', action, image.id, { ...(image.config.config?.Labels ?? {}), name: image.id });
  }
}

