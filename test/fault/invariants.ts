/**
 * What must hold of a daemon's state after any crash and restart: every object the API lists is
 * whole, and nothing exists that nothing owns. Each check returns the violations it found (as
 * sentences), so that a fault run can count them instead of stopping at the first.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { rawRequest } from '../helpers/http.js';
import type { TestDaemon } from '../helpers/berthd.js';
import { hostNetworkState } from '../helpers/host-network.js';

const run = promisify(execFile);
const CGROUP_ROOT = '/sys/fs/cgroup';
const RUNTIMES = ['crun', 'runc'];

export async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

async function api<T>(daemon: TestDaemon, method: string, path: string): Promise<T> {
  const res = await rawRequest(daemon.socket, method, path);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as T;
}

/** Container ids under the daemon's own cgroup parent, in every v1 hierarchy (or the v2 tree). */
async function containerCgroups(cgroupParent: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (const hierarchy of ['', ...(await entries(CGROUP_ROOT))]) {
    for (const id of await entries(join(CGROUP_ROOT, hierarchy, cgroupParent))) {
      if (/^[0-9a-f]{64}$/.test(id)) found.add(id);
    }
  }
  return found;
}

/** Processes whose command line names one of `roots` (helpers of a daemon that died, say). */
async function processesUnder(roots: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await entries('/proc')).filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args.some((a) => roots.some((root) => a.startsWith(root)))) found.push(`${pid} ${args.slice(0, 3).join(' ')}`);
  }
  return found;
}

/** The conmon processes monitoring containers of this exec root: pid → container id. */
async function conmons(execRoot: string): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  for (const pid of (await entries('/proc')).filter((p) => /^\d+$/.test(p))) {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!args[0]?.endsWith('conmon') || !args.some((a) => a.startsWith(execRoot))) continue;
    const id = args[args.indexOf('-c') + 1];
    if (id) found.set(Number(pid), id);
  }
  return found;
}

async function runtimeContainers(execRoot: string): Promise<Array<{ runtime: string; root: string; id: string }>> {
  const found: Array<{ runtime: string; root: string; id: string }> = [];
  for (const runtime of RUNTIMES) {
    const root = join(execRoot, 'runtime', runtime);
    if ((await entries(root)).length === 0) continue;
    const { stdout } = await run(runtime, ['--root', root, 'list', '-q']).catch(() => ({ stdout: '' }));
    for (const id of stdout.split('\n').filter(Boolean)) found.push({ runtime, root, id });
  }
  return found;
}

/**
 * Removes what a faulty daemon leaked (runtime containers and their conmons that no container of
 * the daemon owns, and their cgroups), so that a failed run leaves the machine clean for the next
 * one. Call it before stopping the daemon: its roots go with it.
 */
export async function reapLeftovers(daemon: TestDaemon): Promise<void> {
  const listed = await rawRequest(daemon.socket, 'GET', '/containers/json?all=1').catch(() => undefined);
  const owned = new Set(listed?.status === 200 ? (JSON.parse(listed.body) as Array<{ Id: string }>).map((c) => c.Id) : []);
  for (const { runtime, root, id } of await runtimeContainers(daemon.execRoot)) {
    if (!owned.has(id)) await run(runtime, ['--root', root, 'delete', '--force', id]).catch(() => {});
  }
  for (const [pid, id] of await conmons(daemon.execRoot)) {
    if (owned.has(id)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await removeCgroups(daemon.cgroupParent, owned);
}

/** Removes the daemon's container cgroups but for those of `keep`, and its parent once empty. */
export async function removeCgroups(cgroupParent: string, keep: Set<string> = new Set()): Promise<void> {
  for (const hierarchy of ['', ...(await entries(CGROUP_ROOT))]) {
    const parent = join(CGROUP_ROOT, hierarchy, cgroupParent);
    for (const id of await entries(parent)) {
      if (/^[0-9a-f]{64}$/.test(id) && !keep.has(id)) await rmdir(join(parent, id)).catch(() => {});
    }
    if (keep.size === 0) await rmdir(parent).catch(() => {});
  }
}

function chainIds(diffIds: string[]): string[] {
  const chains: string[] = [];
  for (const diffId of diffIds) {
    const previous = chains.at(-1);
    chains.push(previous ? `sha256:${createHash('sha256').update(`${previous} ${diffId}`).digest('hex')}` : diffId);
  }
  return chains;
}

interface ContainerView {
  Id: string;
  State: { Status: string; Running: boolean; Paused: boolean; Restarting: boolean };
  Mounts: Array<{ Type: string; Name?: string }>;
}

/** Every volume whole (record and folder), every volume folder a volume's, every volume a container names there. */
async function volumeViolations(daemon: TestDaemon, containers: ContainerView[]): Promise<string[]> {
  const found: string[] = [];
  const { Volumes } = await api<{ Volumes: Array<{ Name: string; Driver: string }> }>(daemon, 'GET', '/volumes');
  const names = new Set(Volumes.map((v) => v.Name));
  for (const { Name, Driver } of Volumes) {
    if (Driver === 'local' && !(await stat(join(daemon.dataRoot, 'volumes', Name, '_data')).catch(() => undefined))) found.push(`volume ${Name} has no folder`);
  }
  for (const folder of (await entries(join(daemon.dataRoot, 'volumes'))).filter((f) => f !== '_meta')) {
    if (!names.has(folder)) found.push(`volume folder ${folder} belongs to no volume`);
  }
  for (const container of containers) {
    for (const mount of container.Mounts) if (mount.Type === 'volume' && !names.has(mount.Name ?? '')) found.push(`container ${container.Id} uses volume ${mount.Name}, which does not exist`);
  }
  return found;
}

/** Every violation of the invariants. */
export async function violations(daemon: TestDaemon): Promise<string[]> {
  const found: string[] = [];
  const summaries = await api<Array<{ Id: string }>>(daemon, 'GET', '/containers/json?all=1');
  const containers: ContainerView[] = [];
  for (const { Id } of summaries) {
    const res = await rawRequest(daemon.socket, 'GET', `/containers/${Id}/json`);
    if (res.status === 200) containers.push(JSON.parse(res.body) as ContainerView);
    else found.push(`container ${Id} is listed but inspect gives ${res.status}`);
  }
  const known = new Set(containers.map((c) => c.Id));
  // A container waiting to restart has no run: it owns nothing in the runtime, like a stopped one.
  const live = new Set(containers.filter((c) => (c.State.Running && !c.State.Restarting) || c.State.Paused).map((c) => c.Id));
  const unowned = (what: string, ids: Iterable<string>, owners: Set<string>) => {
    for (const id of ids) if (!owners.has(id)) found.push(`${what} ${id} belongs to no ${owners === live ? 'running ' : ''}container`);
  };

  unowned('runtime container', (await runtimeContainers(daemon.execRoot)).map((c) => c.id), live);
  unowned('conmon process for', (await conmons(daemon.execRoot)).values(), live);
  unowned('cgroup', await containerCgroups(daemon.cgroupParent), live);
  unowned('bundle', await entries(join(daemon.execRoot, 'containers')), live);
  unowned('conmon persist dir', await entries(join(daemon.execRoot, 'persist')), live);
  unowned('staged bind sources of', await entries(join(daemon.execRoot, 'bind-sources')), live);
  for (const name of await entries(join(daemon.execRoot, 'exits'))) found.push(`exit file ${name} was never collected`);
  const daemonPid = daemon.process.pid;
  for (const proc of await processesUnder([daemon.dataRoot])) {
    if (!proc.startsWith(`${daemonPid} `)) found.push(`process ${proc} works on the data root, but no operation is under way`);
  }

  // Volumes with mount options are mounted while a running container uses them.
  const volumesOfLive = new Set(containers.filter((c) => live.has(c.Id)).flatMap((c) => c.Mounts.filter((m) => m.Type === 'volume').map((m) => m.Name)));
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '');
  for (const target of mounts.filter((t) => t.startsWith(`${daemon.execRoot}/bind-sources/`))) {
    const id = target.slice(`${daemon.execRoot}/bind-sources/`.length).split('/')[0]!;
    if (!live.has(id)) found.push(`staged bind source ${target} belongs to no running container`);
  }
  for (const target of mounts.filter((t) => t.startsWith(`${daemon.dataRoot}/`))) {
    const id = target.match(/\/overlay\/([0-9a-f]{64})\/merged$/)?.[1];
    const volume = target.match(/\/volumes\/([^/]+)\/_data$/)?.[1];
    if (volume ? !volumesOfLive.has(volume) : !id || !live.has(id)) found.push(`mount ${target} belongs to no running container`);
  }
  found.push(...(await volumeViolations(daemon, containers)));

  unowned('container dir', await entries(join(daemon.dataRoot, 'containers')), known);
  unowned(
    'container layer',
    (await entries(join(daemon.dataRoot, 'layers', 'containers'))).map((f) => f.replace(/\.json$/, '')),
    known,
  );
  for (const dir of ['content/ingest', 'layers/pending', 'builder/contexts']) {
    for (const name of await entries(join(daemon.dataRoot, dir))) found.push(`leftover ${dir}/${name}`);
  }

  found.push(...(await networkViolations(daemon, known, live)));

  const images = await api<Array<{ Id: string }>>(daemon, 'GET', '/images/json?all=1');
  const reachable = new Set<string>();
  for (const { Id } of images) {
    const image = await api<{ RootFS: { Layers?: string[] } }>(daemon, 'GET', `/images/${Id}/json`);
    const blob = join(daemon.dataRoot, 'content', 'blobs', 'sha256', Id.replace('sha256:', ''));
    if (!(await stat(blob).catch(() => undefined))) found.push(`image ${Id} has no config blob`);
    for (const chain of chainIds(image.RootFS.Layers ?? [])) {
      const hex = chain.replace('sha256:', '');
      reachable.add(hex);
      if (!(await stat(join(daemon.dataRoot, 'layers', 'layers', hex, 'layer.json')).catch(() => undefined))) {
        found.push(`image ${Id} misses its layer ${chain}`);
      }
    }
  }
  for (const hex of await entries(join(daemon.dataRoot, 'layers', 'layers'))) {
    if (!reachable.has(hex)) found.push(`layer ${hex} is used by no image`);
  }
  return found;
}

/**
 * Networking owns nothing without a running container: a sandbox record and a network namespace
 * per live container only; with none live, no firewall rule names the daemon's addresses, no
 * bridge of its networks is up and no aardvark-dns of its exec root runs.
 */
/** The id of the sandbox that keeps the default bridge up while berthd runs (as docker0 stays up), if there is one. */
async function bridgeKeeper(daemon: TestDaemon, sandboxes: string[]): Promise<string | undefined> {
  for (const id of sandboxes) {
    const sandbox = JSON.parse(await readFile(join(daemon.execRoot, 'sandboxes', `${id}.json`), 'utf8').catch(() => '{}')) as { attachments?: Array<{ options?: { container_name?: string } }> };
    if (sandbox.attachments?.[0]?.options?.container_name === 'berth-bridge-keeper') return id;
  }
  return undefined;
}

async function networkViolations(daemon: TestDaemon, known: Set<string>, live: Set<string>): Promise<string[]> {
  const found: string[] = [];
  const all = (await entries(join(daemon.execRoot, 'sandboxes'))).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
  const keeper = await bridgeKeeper(daemon, all);
  const sandboxes = all.filter((id) => id !== keeper);
  for (const id of sandboxes) if (!live.has(id)) found.push(`network sandbox ${id} belongs to no running container`);
  for (const name of await entries('/run/netns')) {
    const id = name.replace(/^berth-/, '');
    if (name.startsWith('berth-') && (known.has(id) || sandboxes.includes(id)) && !live.has(id)) found.push(`network namespace ${name} belongs to no running container`);
  }
  if (live.size > 0) return found;
  const state = await hostNetworkState(daemon);
  // With the keeper, the default bridge and its own rules stay (docker0's do too); nothing else may.
  const defaultSubnet = daemon.network.bip.replace(/\.1\//, '.0/');
  for (const rule of state.ownRules) if (!(keeper && rule.includes(defaultSubnet))) found.push(`firewall rule "${rule}" with no container running`);
  for (const server of state.ownNameServers) found.push(`name server "${server}" with no container running`);
  if (!keeper && state.links.includes(daemon.network.bridge)) found.push(`bridge ${daemon.network.bridge} with no container running`);
  return found;
}

/**
 * The violations still there after giving the daemon `graceMs` to finish its background work
 * (removed layers, released runtimes go after the API has answered).
 */
export async function settledViolations(daemon: TestDaemon, graceMs = 5000): Promise<string[]> {
  let last: string[] = [];
  for (const end = Date.now() + graceMs; ; await new Promise((r) => setTimeout(r, 100))) {
    last = await violations(daemon);
    if (last.length === 0 || Date.now() > end) return last;
  }
}
