/**
 * The operations a fault run interrupts, each one API call sequence as the docker CLI sends it.
 * An operation resolves with a description of what it did, or rejects when the daemon refused
 * it or died under it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { buildTar } from '../unit/archive-fixtures.js';
import { rawRequest } from '../helpers/http.js';

export interface Target {
  socket: string;
}

async function call(target: Target, method: string, path: string, body?: unknown): Promise<string> {
  const res = await rawRequest(target.socket, method, path, body === undefined ? undefined : JSON.stringify(body));
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${res.body.trim()}`);
  return res.body;
}

/** A busybox container; by default one that sleeps, without a restart policy. */
export async function createContainer(
  target: Target,
  name: string,
  options: {
    command?: string[];
    restartPolicy?: { Name: string; MaximumRetryCount: number };
    healthcheck?: { Test: string[]; Interval: number };
    /** A network to be on (with a random published port for 80/tcp); none by default. */
    network?: string;
  } = {},
): Promise<string> {
  const body = await call(target, 'POST', `/containers/create?name=${name}`, {
    Image: 'busybox',
    Cmd: options.command ?? ['sleep', '600'],
    ...(options.healthcheck && { Healthcheck: options.healthcheck }),
    HostConfig: {
      NetworkMode: options.network ?? 'none',
      ...(options.network && { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] } }),
      ...(options.restartPolicy && { RestartPolicy: options.restartPolicy }),
    },
  });
  return (JSON.parse(body) as { Id: string }).Id;
}

export async function startContainer(target: Target, id: string): Promise<void> {
  await call(target, 'POST', `/containers/${id}/start`);
}

export async function stopContainer(target: Target, id: string): Promise<void> {
  await call(target, 'POST', `/containers/${id}/stop?t=1`);
}

export async function removeContainer(target: Target, id: string): Promise<void> {
  await call(target, 'DELETE', `/containers/${id}?force=1`);
}

export async function removeImage(target: Target, ref: string): Promise<void> {
  await call(target, 'DELETE', `/images/${ref}?force=1`);
}

/** `docker commit CONTAINER repo:tag` (a running container is paused while its layer is read). */
export async function commitContainer(target: Target, id: string, ref: { repo: string; tag: string }): Promise<void> {
  await call(target, 'POST', `/commit?container=${id}&repo=${ref.repo}&tag=${ref.tag}`);
}

/**
 * `docker run -d -v fault-data:/etc -v fault-tmp:/t -v /anon -v DATA_ROOT/volumes:/staged:ro
 * busybox sleep`: a named volume filled by copy-up, a volume with mount options (a tmpfs), an
 * anonymous one, and a bind from the data root (staged in the exec root for the runtime).
 */
export async function runWithVolumes(target: Target & { dataRoot: string }, name: string): Promise<void> {
  await call(target, 'POST', '/volumes/create', { Name: 'fault-tmp', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
  const body = await call(target, 'POST', `/containers/create?name=${name}`, {
    Image: 'busybox',
    Cmd: ['sleep', '600'],
    Volumes: { '/anon': {} },
    HostConfig: { NetworkMode: 'none', Binds: [`fault-data-${name}:/etc`, 'fault-tmp:/t', `${target.dataRoot}/volumes:/staged:ro`] },
  });
  await startContainer(target, (JSON.parse(body) as { Id: string }).Id);
}

/** `docker volume rm NAME` (refused while a container uses it). */
export async function removeVolume(target: Target, name: string): Promise<void> {
  await call(target, 'DELETE', `/volumes/${name}`);
}

/** A container that runs to its end: create, start, wait (what `docker run --rm … true` does). */
export async function runToEnd(target: Target, command: string[]): Promise<number> {
  const body = await call(target, 'POST', '/containers/create', {
    Image: 'busybox',
    Cmd: command,
    HostConfig: { NetworkMode: 'none', AutoRemove: true },
  });
  const { Id } = JSON.parse(body) as { Id: string };
  const waiting = call(target, 'POST', `/containers/${Id}/wait?condition=removed`);
  await startContainer(target, Id);
  return (JSON.parse(await waiting) as { StatusCode: number }).StatusCode;
}

/** `docker network create` of a bridge network with the given subnet. */
export async function createNetwork(target: Target, name: string, subnet: string): Promise<void> {
  await call(target, 'POST', '/networks/create', { Name: name, IPAM: { Config: [{ Subnet: subnet }] } });
}

/** A tar sent to `path`, whose answer is a JSON message stream: an `error` in it is a failure. */
function postTar(target: Target, what: string, path: string, tar: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: target.socket, method: 'POST', path, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 400 || text.includes('"error"')) reject(new Error(`${what}: ${res.statusCode} ${text}`));
        else resolve();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(tar);
  });
}

/**
 * `docker load` of an archive (Docker 25's manifest.json form) holding one image of one new
 * layer (`layerBytes` of data plus a file naming `serial`, so no earlier load made the layer),
 * tagged imp:l<serial>.
 */
export async function loadImage(target: Target, serial: number, layerBytes = 4 * 1024 * 1024): Promise<void> {
  const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const layer = await buildTar([
    { name: 'load/data', content: randomBytes(layerBytes) },
    { name: 'load/serial', content: `${serial}\n` },
  ]);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  const blob = (data: Buffer) => `blobs/sha256/${sha256(data).slice(7)}`;
  const archive = await buildTar([
    { name: blob(layer), content: layer },
    { name: blob(config), content: config },
    { name: 'manifest.json', content: JSON.stringify([{ Config: blob(config), RepoTags: [`imp:l${serial}`], Layers: [blob(layer)] }]) },
  ]);
  await postTar(target, 'load', '/images/load?quiet=1', archive);
}

/** `docker import - repo:tag` of the given tar. */
export function importImage(target: Target, tar: Buffer, ref: { repo: string; tag: string }): Promise<void> {
  return postTar(target, 'import', `/images/create?fromSrc=-&repo=${ref.repo}&tag=${ref.tag}`, tar);
}

/** `docker build --no-cache -t tag` (classic builder) of the given context tar: every step runs. */
export function buildImage(target: Target, context: Buffer, tag: string): Promise<void> {
  return postTar(target, 'build', `/build?nocache=1&networkmode=none&t=${tag}`, context);
}

/** `docker pull NAME` followed by `docker rmi NAME`: every pull downloads its layer again. */
export async function pullAndRemove(target: Target, name: string): Promise<void> {
  const [repo, tag] = [name.slice(0, name.lastIndexOf(':')), name.slice(name.lastIndexOf(':') + 1)];
  const body = await call(target, 'POST', `/images/create?fromImage=${encodeURIComponent(repo)}&tag=${tag}`);
  if (body.includes('"error"')) throw new Error(`pull ${name}: ${body}`);
  await removeImage(target, name);
}
