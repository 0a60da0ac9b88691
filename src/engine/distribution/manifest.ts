/**
 * Image manifests as registries serve them: Docker v2 schema 2 and OCI manifests, Docker manifest
 * lists and OCI indexes. Parsing checks the shape a pull relies on, so a malformed or hostile
 * manifest is a clear error before any blob is fetched.
 */
import { invalidParameter } from '../../common/errors.js';
import { isDigest, type Digest } from '../../storage/digest.js';
import { goArch } from '../images/image-config.js';

export const MEDIA_TYPE = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** What a pull accepts, every type named (the registry refuses OCI types it is not asked for). */
export const MANIFEST_ACCEPT = [MEDIA_TYPE.dockerManifest, MEDIA_TYPE.dockerList, MEDIA_TYPE.ociManifest, MEDIA_TYPE.ociIndex].join(', ');

/** containerd's limit for a manifest or index: anything larger is refused unread. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const LAYER_TYPES = new Set<string>([
  MEDIA_TYPE.dockerLayerGzip,
  MEDIA_TYPE.dockerLayerTar,
  MEDIA_TYPE.ociLayerTar,
  MEDIA_TYPE.ociLayerGzip,
  MEDIA_TYPE.ociLayerZstd,
]);

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageManifest {
  kind: 'manifest';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ManifestIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

function malformed(detail: string): Error {
  return invalidParameter(`malformed manifest: ${detail}`);
}

function descriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== 'object' || value === null) throw malformed(`${where} is not an object`);
  const { mediaType, digest, size, platform } = value as Record<string, unknown>;
  if (typeof digest !== 'string' || !isDigest(digest)) throw malformed(`${where} has no valid sha256 digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw malformed(`${where} has no valid size`);
  const result: Descriptor = { mediaType: typeof mediaType === 'string' ? mediaType : '', digest, size };
  if (typeof platform === 'object' && platform !== null) {
    const { os, architecture, variant } = platform as Record<string, unknown>;
    if (typeof os === 'string' && typeof architecture === 'string') {
      result.platform = { os, architecture, ...(typeof variant === 'string' ? { variant } : {}) };
    }
  }
  return result;
}

/**
 * Parses manifest bytes served with `contentType`. The body's own mediaType wins when present
 * (OCI manifests may leave it out, so the header decides then).
 */
export function parseManifest(bytes: Buffer, contentType: string): ImageManifest | ManifestIndex {
  if (bytes.length > MAX_MANIFEST_BYTES) throw malformed(`${bytes.length} bytes is more than the ${MAX_MANIFEST_BYTES} allowed`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw malformed(`not JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw malformed('not a JSON object');
  const body = json as Record<string, unknown>;
  const mediaType = typeof body.mediaType === 'string' ? body.mediaType : contentType.split(';')[0].trim();
  if (body.schemaVersion === 1) throw invalidParameter('schema 1 manifests are no longer supported (Docker dropped them too): push the image again with a current client');
  if (mediaType === MEDIA_TYPE.dockerList || mediaType === MEDIA_TYPE.ociIndex || (mediaType === '' && Array.isArray(body.manifests))) {
    if (!Array.isArray(body.manifests)) throw malformed('an index without "manifests"');
    return { kind: 'index', mediaType, manifests: body.manifests.map((m, i) => descriptor(m, `manifests[${i}]`)) };
  }
  if (mediaType !== MEDIA_TYPE.dockerManifest && mediaType !== MEDIA_TYPE.ociManifest && mediaType !== '') {
    throw invalidParameter(`unsupported manifest media type ${JSON.stringify(mediaType)}`);
  }
  if (!Array.isArray(body.layers)) throw malformed('no "layers" list');
  const config = descriptor(body.config, 'config');
  const layers = body.layers.map((l, i) => descriptor(l, `layers[${i}]`));
  for (const layer of layers) {
    if (!LAYER_TYPES.has(layer.mediaType)) throw invalidParameter(`unsupported layer media type ${JSON.stringify(layer.mediaType)} (layer ${layer.digest})`);
  }
  return { kind: 'manifest', mediaType: mediaType || MEDIA_TYPE.ociManifest, config, layers };
}

/** "linux/arm64/v8" → a Platform; the host's when absent. */
export function parsePlatform(text: string | undefined): Platform {
  if (!text) return { os: 'linux', architecture: goArch() };
  const [os, architecture, variant, ...rest] = text.toLowerCase().split('/');
  if (!os || rest.length > 0 || (architecture !== undefined && architecture === '')) {
    throw invalidParameter(`"${text}": unknown operating system or architecture: invalid argument`);
  }
  return { os, architecture: architecture ?? goArch(), ...(variant ? { variant } : {}) };
}

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/**
 * The index entry for `wanted`, as containerd's platform matcher: same os and architecture, and
 * the variant when one is asked for (arm64 treats "v8" and none alike).
 */
export function choosePlatform(index: ManifestIndex, wanted: Platform): Descriptor {
  const normalVariant = (p: Platform) => (p.architecture === 'arm64' && p.variant === 'v8' ? undefined : p.variant);
  const match = index.manifests.find(
    (m) =>
      m.platform !== undefined &&
      m.platform.os === wanted.os &&
      m.platform.architecture === wanted.architecture &&
      (wanted.variant === undefined || normalVariant(m.platform) === normalVariant(wanted)),
  );
  if (!match) throw invalidParameter(`no matching manifest for ${platformString(wanted)} in the manifest list entries`);
  return match;
}

/** A Docker v2 schema 2 manifest for an image whose config and layers are given; the exact bytes pushed. */
export function dockerManifestBytes(config: Omit<Descriptor, 'mediaType'>, layers: Descriptor[]): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.dockerManifest,
    config: { mediaType: MEDIA_TYPE.dockerConfig, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
  };
  return Buffer.from(JSON.stringify(manifest, null, 3));
}

/** The Docker layer media type a blob is pushed under, from how it is stored. */
export function dockerLayerType(storedType: string): string {
  if (storedType.endsWith('+gzip') || storedType === MEDIA_TYPE.dockerLayerGzip) return MEDIA_TYPE.dockerLayerGzip;
  if (storedType.endsWith('+zstd')) return MEDIA_TYPE.ociLayerZstd;
  return MEDIA_TYPE.dockerLayerTar;
}
