/**
 * `docker history`: an image's history entries, newest first, as moby's ImageHistory reports
 * them. Each entry that made a layer gets that layer's size; the top entry carries the image's
 * id and tags, and each entry below it the id of the image it came from as far as a committed
 * image's parents are known on this host ("<missing>" beyond).
 */
import type { Image } from './image-store.js';

export interface HistoryItem {
  /** "sha256:…" or "<missing>". */
  id: string;
  /** Unix seconds. */
  created: number;
  createdBy: string;
  /** Familiar "repo:tag" names of the image an entry's id names; empty for the rest. */
  tags: string[];
  /** Bytes of the layer the entry made, 0 for an empty layer. */
  size: number;
  comment: string;
}

export interface HistorySource {
  byId(imageId: string): Image | undefined;
  repoTags(imageId: string): string[];
  /** Bytes of the layer with this chain id. */
  layerSize(chainId: string): number;
}

export function imageHistory(image: Image, source: HistorySource): HistoryItem[] {
  const items: HistoryItem[] = [];
  let layer = 0;
  for (const entry of image.config.history ?? []) {
    let size = 0;
    if (!entry.empty_layer) {
      // An entry without a layer of its own beyond the rootfs (a hand-made config) counts nothing.
      const chainId = image.chainIds[layer++];
      if (chainId !== undefined) size = source.layerSize(chainId);
    }
    items.unshift({
      id: '<missing>',
      created: entry.created ? Math.floor(Date.parse(entry.created) / 1000) : 0,
      createdBy: entry.created_by ?? '',
      tags: [],
      size,
      comment: entry.comment ?? '',
    });
  }
  let named: Image | undefined = image;
  for (const item of items) {
    if (!named) break;
    item.id = named.id;
    item.tags = source.repoTags(named.id);
    named = named.parent ? source.byId(named.parent) : undefined;
  }
  return items;
}
