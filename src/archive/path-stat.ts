/**
 * What `HEAD /containers/{id}/archive` reports about a path, in the shape of Docker's
 * ContainerPathStat (base64 JSON in the X-Docker-Container-Path-Stat header). The docker CLI
 * decides from `mode` whether the path is a directory or a symlink, so `mode` is Go's
 * os.FileMode encoding, not st_mode.
 */
import { constants, type Stats } from 'node:fs';
import type { ContainerPathStat } from '../wire/containers.js';

export type PathStat = ContainerPathStat;

// Go's os.FileMode type bits (io/fs), which sit above the permission bits instead of in S_IFMT.
const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const GO_MODE_DEVICE = 2 ** 26;
const GO_MODE_NAMED_PIPE = 2 ** 25;
const GO_MODE_SOCKET = 2 ** 24;
const GO_MODE_SETUID = 2 ** 23;
const GO_MODE_SETGID = 2 ** 22;
const GO_MODE_CHAR_DEVICE = 2 ** 21;
const GO_MODE_STICKY = 2 ** 20;

// The Go type bits of each S_IFMT file type (a regular file has none).
const GO_TYPE_BITS = new Map<number, number>([
  [constants.S_IFDIR, GO_MODE_DIR],
  [constants.S_IFLNK, GO_MODE_SYMLINK],
  [constants.S_IFBLK, GO_MODE_DEVICE],
  [constants.S_IFCHR, GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE],
  [constants.S_IFIFO, GO_MODE_NAMED_PIPE],
  [constants.S_IFSOCK, GO_MODE_SOCKET],
]);

/** st_mode as Go's os.FileMode. */
export function goFileMode(mode: number): number {
  let goMode = (mode & 0o777) + (GO_TYPE_BITS.get(mode & constants.S_IFMT) ?? 0);
  if (mode & 0o4000) goMode += GO_MODE_SETUID;
  if (mode & 0o2000) goMode += GO_MODE_SETGID;
  if (mode & 0o1000) goMode += GO_MODE_STICKY;
  return goMode;
}

/** A time as Go's time.Time marshals it in UTC: nanoseconds without trailing zeros. */
export function goTime(stats: Stats): string {
  const seconds = Math.floor(stats.mtimeMs / 1000);
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  const nanos = Math.round((stats.mtimeMs - seconds * 1000) * 1e6);
  const fraction = nanos === 0 ? '' : `.${String(nanos).padStart(9, '0').replace(/0+$/, '')}`;
  return `${iso}${fraction}Z`;
}

export function pathStat(name: string, stats: Stats, linkTarget: string): PathStat {
  return { name, size: stats.size, mode: goFileMode(stats.mode), mtime: goTime(stats), linkTarget };
}

/** The header value: base64 of the JSON. */
export const encodePathStat = (stat: PathStat): string => Buffer.from(JSON.stringify(stat)).toString('base64');
