/**
 * A container's network sandbox: its named network namespace (/run/netns/berth-<id>, where
 * `ip netns` and crun find it) and the record of what was set up in it (EXEC/networks/<id>.json):
 * each network attachment with the exact netavark options its teardown needs, and the published
 * ports. The record is written before anything is made and removed after everything is undone,
 * so a crash at any point leaves a record that names what to undo; the exec root and the
 * namespaces both live on tmpfs and vanish together at a reboot.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readJsonIfExists, removeInterruptedWrites, writeJsonAtomic } from '../../common/atomic-file.js';
import { FULL_ID } from '../../common/ids.js';
import { wrap } from '../../common/errors.js';
import type { NetavarkOptions } from './netavark.js';
import type { PublishedPort } from '../containers/networking.js';

const run = promisify(execFile);

export const NETNS_PREFIX = 'berth-';
const NETNS_DIR = '/run/netns';

export interface Attachment {
  networkId: string;
  interfaceName: string;
  ip: string;
  prefix: number;
  gateway: string;
  mac: string;
  aliases: string[];
  /** Link-local addresses added to the interface (--link-local-ip); absent in sandboxes stored before them. */
  linkLocal?: string[];
  /** Exactly what netavark's setup was given (its teardown needs the same). */
  options: NetavarkOptions;
}

export interface Sandbox {
  containerId: string;
  netnsName: string;
  attachments: Attachment[];
  ports: PublishedPort[];
  /** ACCEPT rules of --link pairs on a bridge with ICC off (addresses of both ends). */
  links?: Array<{ bridge: string; a: string; b: string }>;
}

export function netnsPath(sandbox: Sandbox): string {
  return join(NETNS_DIR, sandbox.netnsName);
}

export class SandboxStore {
  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<SandboxStore> {
    await mkdir(root, { recursive: true, mode: 0o700 });
    await removeInterruptedWrites(root);
    return new SandboxStore(root);
  }

  private path(containerId: string): string {
    return join(this.root, `${containerId}.json`);
  }

  async all(): Promise<Sandbox[]> {
    const sandboxes: Sandbox[] = [];
    for (const entry of await readdir(this.root)) {
      const id = entry.replace(/\.json$/, '');
      if (!FULL_ID.test(id)) continue;
      const sandbox = await readJsonIfExists<Sandbox>(join(this.root, entry));
      if (sandbox) sandboxes.push(sandbox);
    }
    return sandboxes;
  }

  /** Saved without fsync: it lives on the exec root's tmpfs. */
  save(sandbox: Sandbox): Promise<void> {
    return writeJsonAtomic(this.path(sandbox.containerId), sandbox, { durable: false });
  }

  async remove(containerId: string): Promise<void> {
    await rm(this.path(containerId), { force: true });
  }
}

/** A new sandbox record for a container (its namespace is made by `makeNetns`). */
export function newSandbox(containerId: string): Sandbox {
  return { containerId, netnsName: `${NETNS_PREFIX}${containerId}`, attachments: [], ports: [] };
}

export async function makeNetns(sandbox: Sandbox): Promise<void> {
  try {
    await run('ip', ['netns', 'add', sandbox.netnsName]);
  } catch (err) {
    throw wrap(err, `making the network namespace of ${sandbox.containerId}`);
  }
}

/** Removes the namespace; one already gone is fine. */
export async function removeNetns(sandbox: Sandbox): Promise<void> {
  await run('ip', ['netns', 'del', sandbox.netnsName]).catch(() => rm(netnsPath(sandbox), { force: true }).catch(() => {}));
}

export function isOwnedNetns(name: string): boolean {
  return name.startsWith(NETNS_PREFIX) && FULL_ID.test(name.slice(NETNS_PREFIX.length));
}
