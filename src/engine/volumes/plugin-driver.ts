/**
 * Docker's legacy volume plugin protocol (docs: "Docker volume plugins"): JSON over HTTP POST to
 * a plugin found by name as a unix socket (NAME.sock, or NAME/NAME.sock) or a NAME.spec/NAME.json
 * file naming its address. Activated once (`Plugin.Activate` must list "VolumeDriver"); each call's
 * `Err` becomes an error named after the call, as moby reports it ("VolumeDriver.Create: …").
 */
import { request } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode, invalidParameter, notFound } from '../../common/errors.js';
import type { VolumeDriver } from './volume-driver.js';

/** Where Docker looks for plugins; BERTH_PLUGIN_DIRS (colon-separated) replaces them, for tests and unusual hosts. */
export const DEFAULT_PLUGIN_DIRS = ['/run/docker/plugins', '/etc/docker/plugins', '/usr/lib/docker/plugins'];

const CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';
const CALL_TIMEOUT_MS = 30_000;

type Address = { socketPath: string } | { host: string; port: number };

function parseAddress(url: string, name: string): Address {
  const text = url.trim();
  if (text.startsWith('unix://')) return { socketPath: text.slice('unix://'.length) };
  const tcp = /^(?:tcp|http):\/\/([^:/]+):(\d+)\/?$/.exec(text);
  if (tcp) return { host: tcp[1], port: Number(tcp[2]) };
  throw invalidParameter(`plugin ${name}: unsupported address ${JSON.stringify(text)} (unix:// or tcp:// only)`);
}

const exists = (path: string) => stat(path).then(() => true, () => false);

/** moby's plugin registry lookup: sockets first, then spec files, in each folder in turn. */
export async function findPlugin(name: string, dirs: readonly string[]): Promise<Address | undefined> {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) return undefined;
  for (const dir of dirs) {
    for (const socket of [join(dir, `${name}.sock`), join(dir, name, `${name}.sock`)]) if (await exists(socket)) return { socketPath: socket };
  }
  for (const dir of dirs) {
    for (const base of [join(dir, name), join(dir, name, name)]) {
      const spec = await readFile(`${base}.spec`, 'utf8').catch(() => undefined);
      if (spec !== undefined) return parseAddress(spec, name);
      const json = await readFile(`${base}.json`, 'utf8').catch(() => undefined);
      if (json !== undefined) return parseAddress(String((JSON.parse(json) as { Addr?: unknown }).Addr ?? ''), name);
    }
  }
  return undefined;
}

/** One call: POST /METHOD with a JSON body, the JSON answer; a transport failure names the plugin. */
function call(address: Address, plugin: string, method: string, body: unknown): Promise<Record<string, unknown>> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { ...address, method: 'POST', path: `/${method}`, headers: { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(payload) }, timeout: CALL_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let answer: Record<string, unknown> = {};
          try {
            answer = text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            if ((res.statusCode ?? 500) < 400) return reject(new BerthError('internal', `${method}: the plugin ${plugin} answered no JSON`));
          }
          const err = typeof answer.Err === 'string' && answer.Err !== '' ? answer.Err : (res.statusCode ?? 500) >= 400 ? text.trim() || `status ${res.statusCode}` : '';
          if (err) return reject(new BerthError('internal', `${method}: ${err}`));
          resolve(answer);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => reject(new BerthError('unavailable', `${method}: the plugin ${plugin} cannot be reached: ${errnoCode(err) ?? err.message}`, { cause: err })));
    req.end(payload);
  });
}

export class PluginVolumeDriver implements VolumeDriver {
  private constructor(
    readonly name: string,
    private readonly address: Address,
  ) {}

  /** The plugin of that name, activated; undefined when there is none, an error when it is not a volume driver. */
  static async open(name: string, dirs: readonly string[]): Promise<PluginVolumeDriver | undefined> {
    const address = await findPlugin(name, dirs);
    if (!address) return undefined;
    const answer = await call(address, name, 'Plugin.Activate', {});
    if (!Array.isArray(answer.Implements) || !answer.Implements.includes('VolumeDriver')) {
      throw notFound(`error looking up volume plugin ${name}: plugin ${JSON.stringify(name)} does not implement VolumeDriver`);
    }
    return new PluginVolumeDriver(name, address);
  }

  private call(method: string, body: unknown = {}): Promise<Record<string, unknown>> {
    return call(this.address, this.name, `VolumeDriver.${method}`, body);
  }

  async scope(): Promise<'local' | 'global'> {
    const answer = await this.call('Capabilities').catch(() => ({}) as Record<string, unknown>);
    const scope = (answer.Capabilities as { Scope?: string } | undefined)?.Scope;
    return scope === 'global' ? 'global' : 'local';
  }

  async create(name: string, options: Readonly<Record<string, string>>): Promise<void> {
    await this.call('Create', { Name: name, Opts: options });
  }

  async remove(name: string): Promise<void> {
    await this.call('Remove', { Name: name });
  }

  async mount(name: string, useId: string): Promise<string> {
    const answer = await this.call('Mount', { Name: name, ID: useId });
    if (typeof answer.Mountpoint !== 'string' || answer.Mountpoint === '') throw new BerthError('internal', 'VolumeDriver.Mount: the plugin gave no Mountpoint');
    return answer.Mountpoint;
  }

  async unmount(name: string, useId: string): Promise<void> {
    await this.call('Unmount', { Name: name, ID: useId });
  }

  async path(name: string): Promise<string> {
    const answer = await this.call('Path', { Name: name });
    return typeof answer.Mountpoint === 'string' ? answer.Mountpoint : '';
  }

  async status(name: string): Promise<Record<string, unknown> | undefined> {
    const answer = await this.call('Get', { Name: name });
    const status = (answer.Volume as { Status?: unknown } | undefined)?.Status;
    return status && typeof status === 'object' ? (status as Record<string, unknown>) : undefined;
  }

  async list(): Promise<string[]> {
    const answer = await this.call('List');
    return Array.isArray(answer.Volumes) ? answer.Volumes.map((v: { Name?: unknown }) => String(v.Name ?? '')).filter(Boolean) : [];
  }
}

/** The lookup the volume service uses: plugins in `dirs`. */
export function pluginLookup(dirs: readonly string[]): (name: string) => Promise<VolumeDriver | undefined> {
  return (name) => PluginVolumeDriver.open(name, dirs);
}
