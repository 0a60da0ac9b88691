/**
 * OCI layer tars mark deletions with whiteout files: `.wh.NAME` hides NAME of the lower layers,
 * `.wh..wh..opq` in a directory hides everything the lower layers had in it.
 * - 'overlay': keep them in overlayfs's own form (a 0/0 character device NAME; the xattr
 *   trusted.overlay.opaque=y on the directory), for a layer that is mounted over its parents.
 * - 'delete': carry them out, for a layer that starts as a full copy of its parent (vfs).
 */
export type WhiteoutMode = 'overlay' | 'delete';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
