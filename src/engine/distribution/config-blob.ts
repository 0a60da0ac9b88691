/** An image's config blob from a registry (or the content store, when it is there already), checked against its descriptor. */
import { invalidParameter } from '../../common/errors.js';
import type { ContentStore } from '../../storage/content-store.js';
import { sha256Digest } from '../../storage/digest.js';
import type { Descriptor } from './manifest.js';
import type { RegistryClient } from './registry-client.js';

/** An image config's blob is small; anything past this is refused unread. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export async function fetchConfig(client: RegistryClient, descriptor: Descriptor, content: ContentStore, signal: AbortSignal): Promise<Buffer> {
  if (descriptor.size > MAX_CONFIG_BYTES) throw invalidParameter(`image config ${descriptor.digest} is ${descriptor.size} bytes, more than the ${MAX_CONFIG_BYTES} allowed`);
  if (await content.has(descriptor.digest)) return content.read(descriptor.digest);
  const { stream } = await client.getBlob(descriptor.digest, 0, signal);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > descriptor.size) {
      stream.destroy();
      break;
    }
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length !== descriptor.size || sha256Digest(bytes) !== descriptor.digest) {
    throw invalidParameter(`image config verification failed for digest ${descriptor.digest}`);
  }
  return bytes;
}
