/**
 * Docker's legacy volume plugin protocol: a plugin of the test's own on a temporary socket, found
 * by name (BERTH_PLUGIN_DIRS), driven through every call by the docker CLI: activation, create
 * with options, list, get, path, capabilities, mount and unmount around a container's run,
 * remove; a plugin that fails a call, and one that goes away.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { docker } from '../helpers/docker-cli.js';

interface Call {
  method: string;
  body: Record<string, unknown>;
}

/** A volume plugin: folders under `root`; Create of a name starting with "fail" and Mount of "nomount" answer an Err. */
function startPlugin(socket: string, root: string, calls: Call[]): Promise<Server> {
  const volumes = new Map<string, Record<string, string>>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const method = (req.url ?? '').slice(1);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      calls.push({ method, body });
      const name = String(body.Name ?? '');
      const path = join(root, name);
      let answer: Record<string, unknown> = { Err: '' };
      switch (method) {
        case 'Plugin.Activate':
          answer = { Implements: ['VolumeDriver'] };
          break;
        case 'VolumeDriver.Create':
          if (name.startsWith('fail')) answer = { Err: 'no space for you' };
          else {
            volumes.set(name, (body.Opts ?? {}) as Record<string, string>);
            await mkdir(path, { recursive: true });
          }
          break;
        case 'VolumeDriver.Remove':
          volumes.delete(name);
          await rm(path, { recursive: true, force: true });
          break;
        case 'VolumeDriver.Mount':
          answer = name === 'nomount' ? { Err: 'device busy' } : { Mountpoint: path, Err: '' };
          break;
        case 'VolumeDriver.Path':
          answer = { Mountpoint: path, Err: '' };
          break;
        case 'VolumeDriver.Get':
          answer = volumes.has(name) ? { Volume: { Name: name, Mountpoint: path, Status: { opts: volumes.get(name) } }, Err: '' } : { Err: 'no such volume' };
          break;
        case 'VolumeDriver.List':
          answer = { Volumes: [...volumes.keys()].map((n) => ({ Name: n, Mountpoint: join(root, n) })), Err: '' };
          break;
        case 'VolumeDriver.Capabilities':
          answer = { Capabilities: { Scope: 'global' } };
          break;
      }
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.plugins.v1+json' });
      res.end(JSON.stringify(answer));
    });
  });
  // Volumes made by hand on the plugin's side show in `volume ls` too.
  volumes.set('made-elsewhere', {});
  return new Promise((resolve) => server.listen(socket, () => resolve(server)));
}

describe('volume plugins (legacy protocol)', () => {
  let daemon: TestDaemon;
  let base: string;
  let server: Server;
  const calls: Call[] = [];
  const ok = async (args: string[]) => {
    const result = await docker(daemon, args);
    assert.equal(result.code, 0, `docker ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const methods = () => calls.map((c) => c.method);

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'berth-plugins-'));
    await mkdir(join(base, 'plugins'));
    await mkdir(join(base, 'data'));
    server = await startPlugin(join(base, 'plugins/testvol.sock'), join(base, 'data'), calls);
    // A second plugin found through a .spec file naming the same socket.
    await writeFile(join(base, 'plugins/specvol.spec'), `unix://${join(base, 'plugins/testvol.sock')}\n`);
    daemon = await startDaemon({ env: { BERTH_PLUGIN_DIRS: join(base, 'plugins') } });
    await daemon.berth(['image', 'busybox']);
  });

  after(async () => {
    await daemon?.stop();
    server?.close();
    if (base) await rm(base, { recursive: true, force: true });
  });

  test('create, inspect, ls, a container run, rm: every call of the protocol', async () => {
    assert.equal(await ok(['volume', 'create', '-d', 'testvol', '-o', 'size=1', 'pv']), 'pv\n');
    assert.deepEqual(calls.slice(0, 2), [
      { method: 'Plugin.Activate', body: {} },
      { method: 'VolumeDriver.Create', body: { Name: 'pv', Opts: { size: '1' } } },
    ]);
    const [volume] = JSON.parse(await ok(['volume', 'inspect', 'pv'])) as Array<Record<string, unknown>>;
    assert.deepEqual([volume.Driver, volume.Mountpoint, volume.Scope, volume.Status], ['testvol', join(base, 'data/pv'), 'global', { opts: { size: '1' } }]);
    assert.equal(await ok(['volume', 'ls', '--filter', 'driver=testvol', '--format', '{{.Name}}']), 'made-elsewhere\npv\n');
    calls.length = 0;
    assert.equal(await ok(['run', '--rm', '--network', 'none', '-v', 'pv:/p', 'busybox', 'sh', '-c', 'echo plugged > /p/f; cat /p/f']), 'plugged\n');
    assert.equal(await readFile(join(base, 'data/pv/f'), 'utf8'), 'plugged\n');
    const mount = calls.find((c) => c.method === 'VolumeDriver.Mount');
    const unmount = calls.find((c) => c.method === 'VolumeDriver.Unmount');
    assert.equal(mount?.body.Name, 'pv');
    assert.deepEqual(unmount?.body, mount?.body, 'unmount names the same use as the mount');
    assert.ok(methods().indexOf('VolumeDriver.Mount') < methods().indexOf('VolumeDriver.Unmount'));
    assert.equal(await ok(['volume', 'rm', 'pv']), 'pv\n');
    assert.ok(methods().includes('VolumeDriver.Remove'));
    // --volume-driver for a volume made on first use, and a plugin found through its .spec file.
    await ok(['run', '--rm', '--network', 'none', '--volume-driver', 'specvol', '-v', 'viaspec:/s', 'busybox', 'true']);
    assert.equal(await ok(['volume', 'inspect', '-f', '{{.Driver}}', 'viaspec']), 'specvol\n');
    await ok(['volume', 'rm', 'viaspec', 'made-elsewhere']);
  });

  test('a plugin that fails a call: its Err, named after the call; nothing is left', async () => {
    const create = await docker(daemon, ['volume', 'create', '-d', 'testvol', 'failing']);
    assert.match(create.stderr, /Error response from daemon: create failing: VolumeDriver\.Create: no space for you/);
    assert.equal((await docker(daemon, ['volume', 'inspect', 'failing'])).code, 1);
    await ok(['volume', 'create', '-d', 'testvol', 'nomount']);
    const run = await docker(daemon, ['run', '--rm', '--network', 'none', '-v', 'nomount:/n', 'busybox', 'true']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /error while mounting volume 'nomount': VolumeDriver\.Mount: device busy/);
    assert.equal(await ok(['ps', '-aq']), '');
    await ok(['volume', 'rm', 'nomount']);
    const unknown = await docker(daemon, ['volume', 'create', '-d', 'nosuchplugin', 'x1']);
    assert.match(unknown.stderr, /error looking up volume plugin nosuchplugin: plugin "nosuchplugin" not found/);
  });

  test('a plugin that goes away: calls fail clearly, rm -f forgets its volume', async () => {
    await ok(['volume', 'create', '-d', 'testvol', 'orphan']);
    await new Promise((resolve) => server.close(resolve));
    await rm(join(base, 'plugins/testvol.sock'), { force: true });
    const run = await docker(daemon, ['run', '--rm', '--network', 'none', '-v', 'orphan:/o', 'busybox', 'true']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /VolumeDriver\.Mount: the plugin testvol cannot be reached/);
    const remove = await docker(daemon, ['volume', 'rm', 'orphan']);
    assert.match(remove.stderr, /remove orphan: VolumeDriver\.Remove: the plugin testvol cannot be reached/);
    assert.equal(await ok(['volume', 'rm', '-f', 'orphan']), 'orphan\n');
    assert.equal(await ok(['volume', 'ls', '-q']), '');
  });
});
