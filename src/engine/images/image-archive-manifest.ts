/**
 * What images an archive holds, in the formats `docker load` meets: manifest.json (Docker's
 * format since 1.10, written by Docker 25+ beside an OCI layout and by Podman's docker-archive)
 * or, without it, an OCI image layout's index.json (Podman's oci-archive, containerd exports).
 */
import { invalidParameter } from '../../common/errors.js';
import { digestHex, isDigest, type Digest } from '../../storage/digest.js';
import { goArch } from './image-config.js';
import type { ImageArchiveContents } from './image-archive-reader.js';

export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
const DOCKER_LIST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
/** containerd's annotation with the full reference of an index entry. */
export const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';
/** OCI's annotation: a tag, or (as Podman writes it) a full reference. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** One image of an archive: where its config and layers are, and the names it comes with. */
export interface ArchiveImage {
  configPath: string;
  /** The config's digest when the archive names it (OCI descriptors): the bytes must match. */
  configDigest?: Digest;
  layers: Array<{ path: string }>;
  /** The names as the archive gives them ("fixture/app:1"); empty for an untagged image. */
  repoTags: string[];
}

/** A manifest.json item, as Docker writes it. */
export interface ManifestItem {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  LayerSources?: Record<string, Descriptor>;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string };
}

interface Index {
  manifests?: Descriptor[];
}

interface Manifest {
  config?: Descriptor;
  layers?: Descriptor[];
}

export async function archiveImages(contents: ImageArchiveContents): Promise<ArchiveImage[]> {
  if (contents.has('manifest.json')) return dockerManifestImages(contents);
  if (contents.has('index.json')) return ociLayoutImages(contents);
  throw invalidParameter('invalid image archive: it holds neither manifest.json nor index.json (is it a docker export? use import for those)');
}

async function dockerManifestImages(contents: ImageArchiveContents): Promise<ArchiveImage[]> {
  const items = await contents.readJson<ManifestItem[]>('manifest.json', 'manifest');
  if (!Array.isArray(items)) throw invalidParameter('invalid image archive: manifest.json is not a list of images');
  return items.map((item, i) => {
    if (typeof item?.Config !== 'string' || !Array.isArray(item.Layers) || !item.Layers.every((l) => typeof l === 'string')) {
      throw invalidParameter(`invalid image archive: manifest.json item ${i} lacks Config or Layers`);
    }
    const repoTags = item.RepoTags ?? [];
    if (!Array.isArray(repoTags) || !repoTags.every((t) => typeof t === 'string')) {
      throw invalidParameter(`invalid image archive: manifest.json item ${i} has invalid RepoTags`);
    }
    return { configPath: item.Config, layers: item.Layers.map((path) => ({ path })), repoTags };
  });
}

async function ociLayoutImages(contents: ImageArchiveContents): Promise<ArchiveImage[]> {
  const index = await contents.readJson<Index>('index.json', 'OCI index');
  const images: ArchiveImage[] = [];
  for (const descriptor of index.manifests ?? []) {
    const manifest = await manifestFor(contents, descriptor, 0);
    const image = images.find((known) => known.configDigest === manifest.config?.digest);
    const name = referenceOf(descriptor);
    if (image) {
      if (name && !image.repoTags.includes(name)) image.repoTags.push(name);
      continue;
    }
    const config = manifest.config;
    if (!config || !isDigest(config.digest)) throw invalidParameter(`invalid image archive: manifest ${descriptor.digest} has no valid config`);
    images.push({
      configPath: blobPath(config.digest),
      configDigest: config.digest,
      layers: (manifest.layers ?? []).map((layer) => ({ path: blobPath(layer.digest) })),
      repoTags: name ? [name] : [],
    });
  }
  return images;
}

/** The image manifest a descriptor leads to, through indexes picking this machine's platform. */
async function manifestFor(contents: ImageArchiveContents, descriptor: Descriptor, depth: number): Promise<Manifest> {
  if (depth > 4) throw invalidParameter('invalid image archive: indexes nested too deep');
  const path = blobPath(descriptor.digest);
  if (descriptor.mediaType === OCI_INDEX_MEDIA_TYPE || descriptor.mediaType === DOCKER_LIST_MEDIA_TYPE) {
    const index = await contents.readJson<Index>(path, 'index');
    const wanted = (index.manifests ?? []).find((m) => (m.platform?.os ?? 'linux') === 'linux' && (m.platform?.architecture ?? goArch()) === goArch());
    if (!wanted) throw invalidParameter(`invalid image archive: index ${descriptor.digest} has no image for linux/${goArch()}`);
    return manifestFor(contents, wanted, depth + 1);
  }
  if (descriptor.mediaType !== OCI_MANIFEST_MEDIA_TYPE && descriptor.mediaType !== DOCKER_MANIFEST_MEDIA_TYPE) {
    throw invalidParameter(`invalid image archive: unsupported manifest media type ${JSON.stringify(descriptor.mediaType)}`);
  }
  return contents.readJson<Manifest>(path, 'manifest');
}

/** The full name an index entry gives its image: containerd's annotation, else a ref.name that is one. */
function referenceOf(descriptor: Descriptor): string | undefined {
  const annotations = descriptor.annotations ?? {};
  const full = annotations[IMAGE_NAME_ANNOTATION];
  if (full) return full;
  const refName = annotations[REF_NAME_ANNOTATION];
  // A bare tag ("latest") names no repository: the image loads untagged, as with containerd.
  return refName && /[/:]/.test(refName) ? refName : undefined;
}

export function blobPath(digest: string): string {
  return `blobs/sha256/${digestHex(digest)}`;
}
