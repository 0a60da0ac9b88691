/**
 * Volumes and mounts (issue 15) with the real docker CLI and berth against one berthd: binds,
 * named volumes and the local driver's options, copy-up, anonymous volumes, --volumes-from,
 * tmpfs, the in-use rules, data across removal and daemon restart, events, export/import and the
 * bad inputs, each refused with Docker's message and nothing made.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { docker } from '../helpers/docker-cli.js';

const exec = promisify(execFile);

describe('volumes and mounts', () => {
  let daemon: TestDaemon;
  let host: string;
  const ok = async (args: string[], input?: string) => {
    const result = await docker(daemon, args, input);
    assert.equal(result.code, 0, `docker ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const run = (args: string[]) => ok(['run', '--rm', '--network', 'none', ...args]);
  const refused = async (args: string[], message: RegExp) => {
    const result = await docker(daemon, args);
    assert.notEqual(result.code, 0, `docker ${args.join(' ')} should fail`);
    assert.match(result.stderr, message);
  };

  before(async () => {
    daemon = await startDaemon();
    await daemon.berth(['image', 'busybox']);
    host = await mkdtemp(join(tmpdir(), 'berth-vol-host-'));
    // An image with content at /data (owner 1234:5678, mode 0750) and a VOLUME there.
    const rootfs = join(host, 'rootfs');
    await mkdir(join(rootfs, 'data/sub'), { recursive: true });
    await writeFile(join(rootfs, 'data/sub/file'), 'from the image\n');
    await exec('chown', ['-R', '1234:5678', join(rootfs, 'data')]);
    await exec('chmod', ['0750', join(rootfs, 'data')]);
    // busybox with /data added: a container copies it in (owners kept), its export is imported.
    const builder = await ok(['create', '--network', 'none', '-v', `${rootfs}:/src:ro`, 'busybox', 'sh', '-c', 'cp -a /src/data /data']);
    await ok(['start', '-a', builder.trim()]);
    const tar = await exec('sh', ['-c', `${'/usr/local/bin/docker'} export ${builder.trim()} > ${join(host, 'img.tar')}`], { env: daemon.env });
    assert.equal(tar.stderr, '');
    await ok(['rm', builder.trim()]);
    await ok(['import', '--change', 'VOLUME /data', '--change', 'CMD ["sh"]', join(host, 'img.tar'), 'withdata']);
  });

  after(async () => {
    await daemon?.stop();
    if (host) await rm(host, { recursive: true, force: true });
  });

  test('named volumes: create with labels and options, ls with filters and --format, inspect, rm', async () => {
    assert.equal(await ok(['volume', 'create', '--label', 'tier=db', '--label', 'x', 'vol-a']), 'vol-a\n');
    assert.equal(await ok(['volume', 'create', 'vol-b']), 'vol-b\n');
    // Creating an existing volume returns it as it is.
    assert.equal(await ok(['volume', 'create', 'vol-b']), 'vol-b\n');
    const [inspected] = JSON.parse(await ok(['volume', 'inspect', 'vol-a'])) as Array<Record<string, unknown>>;
    assert.deepEqual(Object.keys(inspected), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.deepEqual([inspected.Driver, inspected.Labels, inspected.Scope, inspected.Options], ['local', { tier: 'db', x: '' }, 'local', null]);
    assert.equal(inspected.Mountpoint, join(daemon.dataRoot, 'volumes/vol-a/_data'));
    assert.match(String(inspected.CreatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(await ok(['volume', 'ls', '--filter', 'label=tier=db', '-q']), 'vol-a\n');
    assert.equal(await ok(['volume', 'ls', '--filter', 'name=b$', '--format', '{{.Name}} {{.Driver}}']), 'vol-b local\n');
    assert.equal(await ok(['volume', 'ls', '--filter', 'driver=local', '--filter', 'name=vol-', '-q']), 'vol-a\nvol-b\n');
    await ok(['create', '--name', 'user-b', '-v', 'vol-b:/b', 'busybox', 'true']);
    assert.equal(await ok(['volume', 'ls', '--filter', 'dangling=true', '--filter', 'name=vol-', '-q']), 'vol-a\n');
    assert.equal(await ok(['volume', 'ls', '--filter', 'dangling=false', '-q']), 'vol-b\n');
    assert.equal(await ok(['ps', '-a', '--filter', 'volume=vol-b', '--format', '{{.Names}} {{.Mounts}}']), 'user-b vol-b\n');
    assert.equal(await ok(['ps', '-a', '--filter', 'volume=/b', '-q']).then((out) => out.trim().length), 12);
    assert.equal(await ok(['ps', '-a', '--filter', 'volume=vol-a', '-q']), '');
    assert.match((await daemon.berth(['inspect', '--type', 'volume', '-f', '{{.Driver}}', 'vol-b'])).stdout, /^local\n$/);
    await refused(['volume', 'ls', '--filter', 'colour=red'], /invalid filter 'colour'/);
    // In use: Docker's 409 naming the container, also with -f.
    const id = (await ok(['inspect', '-f', '{{.Id}}', 'user-b'])).trim();
    await refused(['volume', 'rm', 'vol-b'], new RegExp(`remove vol-b: volume is in use - \\[${id}\\]`));
    await refused(['volume', 'rm', '-f', 'vol-b'], /volume is in use/);
    await ok(['rm', 'user-b']);
    assert.equal(await ok(['volume', 'rm', 'vol-a', 'vol-b']), 'vol-a\nvol-b\n');
    await refused(['volume', 'inspect', 'vol-a'], /Error response from daemon: get vol-a: no such volume/);
    assert.match((await daemon.berth(['volume', 'inspect', 'vol-a'], { allowFailure: true })).stderr, /Error response from daemon: get vol-a: no such volume/);
    await refused(['volume', 'rm', 'vol-a'], /get vol-a: no such volume/);
    assert.equal(await ok(['volume', 'rm', '-f', 'vol-a']), 'vol-a\n');
  });

  test('data in a named volume outlives its containers and a daemon restart; -v NAME makes it on first use', async () => {
    await run(['-v', 'keep:/k', 'busybox', 'sh', '-c', 'echo kept > /k/f']);
    await ok(['run', '-d', '--name', 'holder', '--network', 'none', '-v', 'keep:/k', 'busybox', 'sleep', '60']);
    await daemon.restart();
    // The running container's volume is still in use after the restart.
    await refused(['volume', 'rm', 'keep'], /volume is in use/);
    assert.equal(await ok(['exec', 'holder', 'cat', '/k/f']), 'kept\n');
    await ok(['rm', '-f', 'holder']);
    assert.equal(await run(['-v', 'keep:/k:ro', 'busybox', 'sh', '-c', 'cat /k/f; touch /k/g 2>&1 || true']), 'kept\ntouch: /k/g: Read-only file system\n');
    // docker cp reaches a stopped container's volumes, as moby mounts them for it.
    await ok(['create', '--name', 'cp-target', '-v', 'keep:/k', 'busybox', 'true']);
    await writeFile(join(host, 'copied'), 'by cp\n');
    await ok(['cp', join(host, 'copied'), 'cp-target:/k/copied']);
    assert.equal(await readFile(join(daemon.dataRoot, 'volumes/keep/_data/copied'), 'utf8'), 'by cp\n');
    await ok(['rm', 'cp-target']);
    await ok(['volume', 'rm', 'keep']);
  });

  test('binds: -v with ro, z and a missing host folder created; --mount refuses a missing source; a bind over a file', async () => {
    const dir = join(host, 'bind');
    await mkdir(dir);
    await writeFile(join(dir, 'f'), 'host\n');
    assert.equal(await run(['-v', `${dir}:/h:ro,z`, 'busybox', 'sh', '-c', 'cat /h/f; echo x > /h/g 2>/dev/null || echo refused']), 'host\nrefused\n');
    await run(['-v', `${dir}:/h`, 'busybox', 'sh', '-c', 'echo from-container > /h/g']);
    assert.equal(await readFile(join(dir, 'g'), 'utf8'), 'from-container\n');
    const missing = join(host, 'made/by/v');
    await run(['-v', `${missing}:/m`, 'busybox', 'true']);
    assert.ok((await stat(missing)).isDirectory());
    const absent = join(host, 'absent');
    await refused(['run', '--rm', '--mount', `type=bind,source=${absent},target=/m`, 'busybox', 'true'], new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${absent}`));
    await assert.rejects(stat(absent));
    assert.equal(await run(['--mount', `type=bind,src=${join(dir, 'f')},dst=/etc/motd,readonly`, 'busybox', 'cat', '/etc/motd']), 'host\n');
    const [mount] = JSON.parse(await ok(['create', '-v', `${dir}:/h:ro`, '--name', 'binder', 'busybox', 'true']).then(() => ok(['inspect', '-f', '{{json .Mounts}}', 'binder'])));
    assert.deepEqual(mount, { Type: 'bind', Source: dir, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate' });
    assert.equal(await ok(['inspect', '-f', '{{json .HostConfig.Binds}}', 'binder']), `["${dir}:/h:ro"]\n`);
    await ok(['rm', 'binder']);
  });

  test('bind propagation: shared on a private mount is refused as moby; rslave over a shared mount sees host mounts made later', async () => {
    const shared = join(host, 'shared');
    await mkdir(shared);
    await refused(['run', '--rm', '-v', `${shared}:/s:shared`, 'busybox', 'true'], new RegExp(`path ${shared} is mounted on / but it is not a shared mount`));
    await exec('mount', ['-t', 'tmpfs', 'tmpfs', shared]);
    try {
      await exec('mount', ['--make-shared', shared]);
      await ok(['run', '-d', '--name', 'prop', '--network', 'none', '--mount', `type=bind,src=${shared},dst=/s,bind-propagation=rslave`, 'busybox', 'sleep', '60']);
      await mkdir(join(shared, 'late'));
      await exec('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(shared, 'late')]);
      assert.match(await ok(['exec', 'prop', 'sh', '-c', 'grep " /s/late " /proc/mounts']), /tmpfs \/s\/late tmpfs/);
      assert.equal(await ok(['inspect', '-f', '{{range .Mounts}}{{.Propagation}}{{end}}', 'prop']), 'rslave\n');
    } finally {
      await docker(daemon, ['rm', '-f', 'prop']);
      await exec('umount', ['-R', shared]).catch(() => {});
    }
  });

  test('copy-up: a new volume over image content gets it with owners and modes; a non-empty one and nocopy are left alone', async () => {
    const show = 'stat -c "%u:%g %a" /data; cat /data/sub/file; stat -c "%u:%g" /data/sub/file';
    assert.equal(await run(['-v', 'filled:/data', 'withdata', 'sh', '-c', show]), '1234:5678 750\nfrom the image\n1234:5678\n');
    await run(['-v', 'filled:/data', 'withdata', 'sh', '-c', 'rm /data/sub/file; echo mine > /data/own']);
    assert.equal(await run(['-v', 'filled:/data', 'withdata', 'sh', '-c', 'ls /data/sub; cat /data/own']), 'mine\n');
    assert.equal(await run(['--mount', 'type=volume,src=nocopy,dst=/data,volume-nocopy', 'withdata', 'ls', '-A', '/data']), '');
    await ok(['volume', 'rm', 'filled', 'nocopy']);
  });

  test('anonymous volumes from VOLUME and -v /path: kept by rm, removed by rm -v and --rm; inspect shows them', async () => {
    const before = (await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean);
    await ok(['create', '--name', 'anon', '-v', '/extra', 'withdata', 'true']);
    assert.equal(await ok(['inspect', '-f', '{{json .Config.Volumes}}', 'anon']), '{"/data":{},"/extra":{}}\n');
    const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'anon'])) as Array<{ Name: string; Destination: string; Type: string }>;
    assert.deepEqual(mounts.map((m) => [m.Type, m.Destination, m.Name.length]).sort(), [['volume', '/data', 64], ['volume', '/extra', 64]]);
    const [labels] = JSON.parse(await ok(['volume', 'inspect', mounts[0].Name])) as Array<{ Labels: Record<string, string> }>;
    assert.deepEqual(labels.Labels, { 'com.docker.volume.anonymous': '' });
    await ok(['start', '-a', 'anon']);
    await ok(['rm', 'anon']);
    const kept = (await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean);
    assert.deepEqual(kept.filter((n) => !before.includes(n)).sort(), mounts.map((m) => m.Name).sort());
    await ok(['create', '--name', 'anon2', 'withdata', 'true']);
    const [volume] = (JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'anon2'])) as Array<{ Name: string }>).map((m) => m.Name);
    await ok(['rm', '-v', 'anon2']);
    await refused(['volume', 'inspect', volume], /no such volume/);
    await run(['-v', '/gone', 'busybox', 'true']);
    assert.deepEqual((await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort(), kept.sort());
    // prune removes the anonymous ones; -a the named ones too.
    await ok(['volume', 'create', 'named-left']);
    const pruned = await ok(['volume', 'prune', '-f']);
    for (const name of mounts.map((m) => m.Name)) assert.match(pruned, new RegExp(name));
    assert.doesNotMatch(pruned, /named-left/);
    assert.match(await ok(['volume', 'prune', '-af']), /named-left[\s\S]*Total reclaimed space/);
  });

  test('--volumes-from takes volumes and binds, :ro makes them read-only', async () => {
    const dir = join(host, 'from');
    await mkdir(dir);
    await ok(['create', '--name', 'source', '-v', 'shared-vol:/v', '-v', `${dir}:/b`, 'busybox', 'true']);
    await run(['--volumes-from', 'source', 'busybox', 'sh', '-c', 'echo one > /v/f; echo two > /b/f']);
    assert.equal(await readFile(join(dir, 'f'), 'utf8'), 'two\n');
    assert.equal(await run(['--volumes-from', 'source:ro', 'busybox', 'sh', '-c', 'cat /v/f; touch /v/g 2>/dev/null || echo ro']), 'one\nro\n');
    // (The docker CLI takes any 404 of a create for a missing image and tries a pull: berth is asked.)
    const unknown = await daemon.berth(['run', '--rm', '--volumes-from', 'nosuch', 'busybox', 'true'], { allowFailure: true });
    assert.match(unknown.stderr, /No such container: nosuch/);
    await ok(['rm', 'source']);
    await ok(['volume', 'rm', 'shared-vol']);
  });

  test('tmpfs: --tmpfs with options, --mount type=tmpfs with size and mode; volumes, binds and tmpfs under runc too', async () => {
    assert.equal(
      await run(['--runtime', 'runc', '-v', 'runc-vol:/v', '-v', `${host}:/h:ro`, '--tmpfs', '/t:size=1m', 'busybox', 'sh', '-c', 'echo r > /v/r; cat /v/r; touch /h/x 2>/dev/null || echo ro; grep -c " /t tmpfs " /proc/mounts']),
      'r\nro\n1\n',
    );
    await ok(['volume', 'rm', 'runc-vol']);
    assert.match(await run(['--tmpfs', '/t:size=1m,exec', 'busybox', 'grep', ' /t ', '/proc/mounts']), /^tmpfs \/t tmpfs rw,nosuid,nodev,relatime,size=1024k/);
    assert.equal(await run(['--mount', 'type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=1770', 'busybox', 'sh', '-c', 'stat -c %a /t; df -k /t | tail -1 | awk "{print \\$2}"']), '1770\n2048\n');
  });

  test('local driver options: a tmpfs volume, a bind of a host folder, a loop-mounted ext4 image', async () => {
    await ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=3m', 'tmpvol']);
    assert.match(await run(['-v', 'tmpvol:/t', 'busybox', 'grep', ' /t ', '/proc/mounts']), /^tmpfs \/t tmpfs .*size=3072k/);
    const folder = join(host, 'bound');
    await mkdir(folder);
    await ok(['volume', 'create', '-o', 'type=none', '-o', `device=${folder}`, '-o', 'o=bind', 'bindvol']);
    await run(['-v', 'bindvol:/b', 'busybox', 'sh', '-c', 'echo through > /b/f']);
    assert.equal(await readFile(join(folder, 'f'), 'utf8'), 'through\n');
    const image = join(host, 'fs.img');
    await exec('truncate', ['-s', '8M', image]);
    await exec('mkfs.ext4', ['-q', '-F', image]);
    await ok(['volume', 'create', '-o', 'type=ext4', '-o', `device=${image}`, '-o', 'o=loop', 'loopvol']);
    await run(['-v', 'loopvol:/l', 'busybox', 'sh', '-c', 'echo in-image > /l/f']);
    assert.equal(await run(['-v', 'loopvol:/l', 'busybox', 'cat', '/l/f']), 'in-image\n');
    // Nothing stays mounted between runs.
    assert.doesNotMatch(await readFile('/proc/self/mountinfo', 'utf8'), /volumes\/(tmpvol|bindvol|loopvol)/);
    await refused(['volume', 'create', '-o', 'colour=red', 'badopt'], /invalid option: "colour"/);
    // --mount makes a volume with driver options on first use.
    assert.match(await run(['--mount', 'type=volume,src=mountvol,dst=/m,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m', 'busybox', 'grep', ' /m ', '/proc/mounts']), /size=2048k/);
    assert.equal(await ok(['volume', 'inspect', '-f', '{{json .Options}}', 'mountvol']), '{"device":"tmpfs","o":"size=2m","type":"tmpfs"}\n');
    await ok(['volume', 'rm', 'mountvol']);
    await ok(['volume', 'rm', 'tmpvol', 'bindvol', 'loopvol']);
    assert.equal(await readFile(join(folder, 'f'), 'utf8'), 'through\n', 'removing a bind volume leaves the host folder');
  });

  test('bad input gets Docker\'s error and changes nothing', async () => {
    const volumesBefore = await ok(['volume', 'ls', '-q']);
    await refused(['run', '--rm', '-v', '/tmp:relative', 'busybox', 'true'], /invalid volume specification: '\/tmp:relative': invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute/);
    await refused(['run', '--rm', '-v', '/tmp:/', 'busybox', 'true'], /destination can't be '\/'/);
    await refused(['run', '--rm', '-v', '/tmp:/x:bogus', 'busybox', 'true'], /invalid mode: bogus/);
    await refused(['run', '--rm', '-v', 'bad/name:/x', 'busybox', 'true'], /create bad\/name: "bad\/name" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/);
    await refused(['volume', 'create', 'a'], /volume name is too short/);
    await refused(['run', '--rm', '-v', '/tmp:/x', '-v', 'v1:/x', 'busybox', 'true'], /Duplicate mount point: \/x/);
    await refused(['run', '--rm', '--mount', 'type=bind,src=/tmp,dst=/x,colour=red', 'busybox', 'true'], /unexpected key 'colour'/);
    await refused(['run', '--rm', '--tmpfs', 'rel', 'busybox', 'true'], /mount path must be absolute/);
    assert.equal(await ok(['ps', '-aq']), '');
    assert.equal(await ok(['volume', 'ls', '-q']), volumesBefore);
  });

  test('a bind source through a symbolic link a container planted in a volume is the link\'s target inside the volume, not the host path', async () => {
    // The container makes /v/link -> /etc in its volume; a later bind of that path must not expose the host's /etc.
    await run(['-v', 'planted:/v', 'busybox', 'ln', '-s', '/etc', '/v/link']);
    const link = join(daemon.dataRoot, 'volumes/planted/_data/link');
    await refused(['run', '--rm', '-v', `${link}:/x`, 'busybox', 'true'], /bind source path .* leads through a symbolic link in berthd's data root/);
    await refused(['run', '--rm', '-v', `${link}/sub:/x`, 'busybox', 'true'], /leads through a symbolic link/);
    await assert.rejects(stat('/etc/sub'));
    await ok(['volume', 'rm', 'planted']);
  });

  test('a bind source in the data root is staged for the runtime: crun and runc mount what was checked', async () => {
    await run(['-v', 'pinned:/v', 'busybox', 'sh', '-c', 'mkdir /v/sub && echo inside > /v/sub/f']);
    const sub = join(daemon.dataRoot, 'volumes/pinned/_data/sub');
    for (const runtime of ['crun', 'runc']) {
      assert.equal(await run(['--runtime', runtime, '-v', `${sub}:/x:ro`, 'busybox', 'cat', '/x/f']), 'inside\n', runtime);
    }
    // The source path as given stays what inspect shows.
    const id = (await ok(['create', '--network', 'none', '-v', `${sub}:/x`, 'busybox', 'true'])).trim();
    assert.equal(await ok(['inspect', '-f', '{{(index .Mounts 0).Source}}', id]), `${sub}\n`);
    await ok(['rm', id]);
    await ok(['volume', 'rm', 'pinned']);
  });

  test('a container that swaps a folder above its mount point for a link to a host path cannot move the mount out of its root', async () => {
    const outside = join(host, 'escape-target');
    const script = `if [ -L /data ]; then ls -d /data/sub; else mv /data /data.old && ln -s ${outside} /data && echo swapped; fi`;
    await ok(['create', '--name', 'swap', '--network', 'none', '-v', 'swapvol:/data/sub', 'busybox', 'sh', '-c', script]);
    assert.equal(await ok(['start', '-a', 'swap']), 'swapped\n');
    // The next start resolves /data/sub inside the rootfs: crun (openat2 RESOLVE_IN_ROOT) finds no
    // such folder in the container and refuses the start; nothing is made or mounted at the host's path.
    const second = await docker(daemon, ['start', '-a', 'swap']);
    assert.match(second.stderr, /openat2 `data`: No such file or directory/);
    await assert.rejects(stat(outside));
    assert.doesNotMatch(await readFile('/proc/self/mountinfo', 'utf8'), /escape-target/);
    await ok(['rm', 'swap']);
    await ok(['volume', 'rm', 'swapvol']);
  });

  test('volume events: create, mount, unmount, destroy; export and import through berth', async () => {
    const since = String(Date.now() / 1000);
    await run(['-v', 'evt:/e', 'busybox', 'sh', '-c', 'mkdir /e/d; echo data > /e/d/f; chown 7:8 /e/d/f']);
    const tar = join(host, 'evt.tar');
    await daemon.berth(['volume', 'export', '-o', tar, 'evt']);
    await daemon.berth(['volume', 'create', 'copied']);
    await daemon.berth(['volume', 'import', 'copied', tar]);
    assert.equal(await run(['-v', 'copied:/c', 'busybox', 'sh', '-c', 'cat /c/d/f; stat -c %u:%g /c/d/f']), 'data\n7:8\n');
    const piped = await daemon.berth(['volume', 'export', 'evt']);
    await daemon.berth(['volume', 'import', 'copied', '-'], { input: piped.stdout });
    await ok(['volume', 'rm', 'evt', 'copied']);
    const until = String(Date.now() / 1000 + 1);
    const events = await ok(['events', '--since', since, '--until', until, '--filter', 'type=volume', '--filter', 'volume=evt', '--format', '{{.Action}} {{index .Actor.Attributes "driver"}}']);
    assert.deepEqual(events.trim().split('\n'), ['create local', 'mount local', 'unmount local', 'destroy local']);
  });
});
