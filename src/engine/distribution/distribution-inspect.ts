/**
 * GET /distribution/{name}/json (moby's DistributionInspect): what a registry holds under a name,
 * without pulling it: the manifest's descriptor, and the platforms it serves (an index lists
 * them; a single manifest's come from its config blob).
 */
import type { ContentStore } from '../../storage/content-store.js';
import { sha256Digest } from '../../storage/digest.js';
import type { DistributionInspect, OciPlatform } from '../../wire/distribution.js';
import { fetchConfig } from './config-blob.js';
import { parseManifest } from './manifest.js';
import { notFoundWording, pullReference } from './pull-service.js';
import type { Credentials } from './registry-auth.js';
import type { RegistrySessions } from './registry-sessions.js';

export async function inspectDistribution(
  deps: { sessions: RegistrySessions; content: ContentStore },
  name: string,
  credentials: Credentials,
  signal: AbortSignal,
): Promise<DistributionInspect> {
  const ref = pullReference(name, undefined);
  const client = await deps.sessions.client(ref, 'pull', credentials, signal);
  const fetched = await client.getManifest(ref.digest ?? ref.tag ?? 'latest').catch((err: unknown) => {
    throw notFoundWording(err, ref);
  });
  const manifest = parseManifest(fetched.bytes, fetched.mediaType);
  const Descriptor = { mediaType: manifest.mediaType, digest: sha256Digest(fetched.bytes), size: fetched.bytes.length };
  if (manifest.kind === 'index') {
    const Platforms = manifest.manifests.flatMap((m) => (m.platform ? [platformOf(m.platform)] : []));
    return { Descriptor, Platforms };
  }
  const config = JSON.parse((await fetchConfig(client, manifest.config, deps.content, signal)).toString('utf8')) as Record<string, unknown>;
  return { Descriptor, Platforms: [platformOf(config)] };
}

function platformOf(source: Record<string, unknown> | { os: string; architecture: string; variant?: string }): OciPlatform {
  const fields = source as Record<string, unknown>;
  const text = (key: string) => (typeof fields[key] === 'string' && fields[key] !== '' ? (fields[key] as string) : undefined);
  const features = Array.isArray(fields['os.features']) ? (fields['os.features'] as unknown[]).filter((f): f is string => typeof f === 'string') : [];
  return {
    architecture: text('architecture') ?? '',
    os: text('os') ?? '',
    ...(text('os.version') ? { 'os.version': text('os.version') } : {}),
    ...(features.length > 0 ? { 'os.features': features } : {}),
    ...(text('variant') ? { variant: text('variant') } : {}),
  };
}
