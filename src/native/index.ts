/**
 * Typed wrappers around the berth_native addon (src/native/berth_native.c, built by
 * `npx node-gyp rebuild` into build/Release/berth_native.node). Every function but umount2Async
 * and removeTree (promises) is synchronous; all throw errors shaped like Node's fs errors: `err.code` ('EPERM'), `err.syscall` ('mount'),
 * `err.path`, `err.errno`. The xattr functions take a path as a string or as a Buffer of its raw bytes
 * (a name that is not UTF-8).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

interface NativeAddon {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  mountFrom(dir: string, source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  umount2Async(target: string, flags: number): Promise<void>;
  mknod(path: string, mode: number, dev: number): void;
  lsetxattr(path: string | Buffer, name: string, value: Buffer): void;
  lgetxattr(path: string | Buffer, name: string): Buffer | null;
  llistxattr(path: string | Buffer): Buffer;
  chroot(path: string): void;
  spawnDetached(path: string, args: string[], env: string[], cwd: string, pipes: number): SpawnedChild;
  reapChild(pid: number): number | null | undefined;
  removeTree(path: string): Promise<void>;
}

/** A child started by spawnDetached: its pid, and the daemon's ends of its fds 2, 3, …. */
export interface SpawnedChild {
  pid: number;
  fds: number[];
}

// This file runs from dist/src/native/, three levels below the repository root.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const addon = createRequire(import.meta.url)(join(repoRoot, 'build/Release/berth_native.node')) as NativeAddon;

// umount2 flag (linux/fs.h); mount flags are added here as callers need them.
export const MNT_DETACH = 0x2;
export const MS_RDONLY = 0x1;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;

/** Encodes a device number the way glibc's makedev does, for majors < 4096. */
export function makedev(major: number, minor: number): number {
  return (((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12)) >>> 0;
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  addon.mount(source, target, fstype, flags, data);
}

/** `mount` with `dir` as working directory (relative paths in `data` resolve from it); the daemon's own stays. */
export function mountFrom(dir: string, source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  addon.mountFrom(dir, source, target, fstype, flags, data);
}

export function umount2(target: string, flags: number): void {
  addon.umount2(target, flags);
}

/** umount2 on libuv's thread pool: an overlay's unmount syncs its upper filesystem, which must not stall the event loop. */
export function umount2Async(target: string, flags: number): Promise<void> {
  return addon.umount2Async(target, flags);
}

/** `mode` includes the file type bits (fs.constants.S_IFCHR, S_IFBLK, S_IFIFO). */
export function mknod(path: string, mode: number, dev: number): void {
  addon.mknod(path, mode, dev);
}

export function lsetxattr(path: string | Buffer, name: string, value: Buffer): void {
  addon.lsetxattr(path, name, value);
}

/** The attribute's value, or null when it is not set. */
export function lgetxattr(path: string | Buffer, name: string): Buffer | null {
  return addon.lgetxattr(path, name);
}

/** The names of the extended attributes set on `path` (not following a symlink). */
export function llistxattr(path: string | Buffer): string[] {
  return addon.llistxattr(path).toString('utf8').split('\0').filter(Boolean);
}

export function chroot(path: string): void {
  addon.chroot(path);
}

/**
 * posix_spawn of `path` (absolute; no PATH search) in a new session, working directory `cwd`,
 * default signal dispositions, /dev/null as its stdin and stdout and `pipes` socket pairs as its
 * fds 2, 3, … (the daemon's ends, close-on-exec, in `fds`). A vfork: the event loop is held only
 * while the child execs, where child_process.spawn first copies the daemon's page tables. The
 * caller must reap the child with waitExit.
 */
export function spawnDetached(path: string, args: string[], env: Record<string, string>, cwd: string, pipes: number): SpawnedChild {
  return addon.spawnDetached(path, [path, ...args], Object.entries(env).map(([k, v]) => `${k}=${v}`), cwd, pipes);
}

/**
 * Waits for a child of spawnDetached to exit: its exit code, or null when a signal ended it.
 * Polled (waitpid WNOHANG, 1 ms, then less often): the children this is for leave within
 * milliseconds, and a blocking waitpid would hold a thread of libuv's pool meanwhile.
 */
export async function waitExit(pid: number): Promise<number | null> {
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const status = addon.reapChild(pid);
    if (status !== undefined) return status;
    await sleep(delay);
  }
}

/**
 * `rm -rf path` as one job on libuv's thread pool (Node's recursive rm makes a round trip per
 * call, some twenty for a small folder). Symlinks are removed, not followed; another mount inside
 * the tree is not entered (the folder that holds it fails with ENOTEMPTY). A missing path is no error.
 */
export function removeTree(path: string): Promise<void> {
  return addon.removeTree(path);
}
