import { createHash } from 'node:crypto';
import { invalidParameter } from '../common/errors.js';

/** 'sha256:' followed by 64 lowercase hex digits: the only algorithm Berth writes or accepts. */
export type Digest = `sha256:${string}`;

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** The hex part of a digest; throws invalid-parameter for anything that is not a sha256 digest. */
export function digestHex(digest: string): string {
  const match = DIGEST.exec(digest);
  if (!match) throw invalidParameter(`invalid digest ${JSON.stringify(digest)}: expected sha256:<64 hex digits>`);
  return match[1]!;
}

export function isDigest(value: string): value is Digest {
  return DIGEST.test(value);
}

export function sha256Digest(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * The OCI chain ID of a layer: the diff ID of a base layer, else
 * sha256(parent's chain ID + " " + this layer's diff ID). It names a layer together with
 * everything under it, so two images sharing their bottom layers share those layers on disk.
 */
export function chainId(parentChainId: Digest | null, diffId: Digest): Digest {
  return parentChainId === null ? diffId : sha256Digest(`${parentChainId} ${diffId}`);
}
