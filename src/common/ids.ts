import { randomBytes } from 'node:crypto';

/** A 64-hex-digit id, as Docker gives containers and exec sessions. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** The 12-digit form Docker prints. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

export const FULL_ID = /^[0-9a-f]{64}$/;
