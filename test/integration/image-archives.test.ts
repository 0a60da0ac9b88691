/**
 * docker save / load / import through the API with the real docker CLI and berth: archives made
 * by Docker 20.10 and Podman 4.3 (test/fixtures/image-archives), round trips that keep image ids
 * and layer digests, the format Docker 25+ writes, hostile archives that must leave nothing
 * behind, and concurrent loads sharing layers.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { REPO_ROOT, useBusyboxDaemon, type TestDaemon } from '../helpers/berthd.js';
import { DOCKER } from '../helpers/docker-cli.js';
import { buildTar, tempDir, type TarEntry } from '../unit/archive-fixtures.js';
import { lgetxattr, lsetxattr } from '../../src/native/index.js';
import { packBusyboxRootfs } from '../../src/bootstrap/busybox-rootfs.js';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/image-archives');
const run = promisify(execFile);

const APP_ID = 'sha256:6b15d975a5ca68dcc6b19818bb7f72a1489e50f0aad38a769353302f5924101f';
const CAPS_ID = 'sha256:18895a25a5941c959083e2f4e38006183591a9bc2868d426d2bc5f5638c10395';
const PODMAN_ID = 'sha256:af169ab28a0df1889e112d3a19cb345fa640f5fde3ac17d1362f9495f24eb480';
const BASE = 'sha256:42e7164e33137830d925f1bbcbd9be4c7dbc0ccff5276d3f1155cb7acc65b38c';
const APP_RUN = 'sha256:2942fbce690d6056f4e3029f22e4940132a47bf11c17dd3e8913f9c2cb191afa';
const CAPS_ADD = 'sha256:ef21de701116ef1075a1d8fad414eda5690814548560509fba0216fc56f5d292';
const PODMAN_RUN = 'sha256:62cdb49f6e6398ed1ad97e8182c291ff8d7daf29e2d758948f8d4286f81b22d8';
const CAPABILITY = Buffer.from('0100000200200000000000000000000000000000', 'hex');

/** zstd (Debian's zstd) of `input`, or of `zeros` zero bytes. */
function zstdCompress(input: Buffer, options: { zeros?: number } = {}): Buffer {
  if (options.zeros) return execFileSync('bash', ['-c', `head -c ${options.zeros} /dev/zero | zstd -q -c`], { maxBuffer: 1 << 26 });
  return execFileSync('zstd', ['-q', '-c'], { input, maxBuffer: 1 << 26 });
}

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A file bigger than the archive reader keeps in memory (SMALL_FILE_BYTES). */
const BIG_FILE_BYTES = 1536 * 1024;

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A request with a binary body and answer. */
function call(daemon: TestDaemon, method: string, path: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: daemon.socket, method, path, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function cli(daemon: TestDaemon, command: string): Promise<string> {
  const { stdout } = await run('bash', ['-c', command], { env: { ...daemon.env, DOCKER }, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function inspect(daemon: TestDaemon, name: string): Promise<{ Id: string; RepoTags: string[]; RootFS: { Layers: string[] }; Architecture: string; Comment: string }> {
  const res = await call(daemon, 'GET', `/images/${name}/json`);
  assert.equal(res.status, 200, `inspect ${name}: ${res.body.toString()}`);
  return JSON.parse(res.body.toString()) as never;
}

/** The files of a tar, by name: their bytes, and the header. */
async function tarFiles(tar: Buffer): Promise<Map<string, { data: Buffer; type: string; linkname?: string | null }>> {
  const files = new Map<string, { data: Buffer; type: string; linkname?: string | null }>();
  const entries = extract();
  entries.end(tar);
  for await (const entry of entries) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    files.set(entry.header.name, { data: Buffer.concat(chunks), type: entry.header.type ?? 'file', linkname: entry.header.linkname });
  }
  return files;
}

/**
 * The entries of a tar by name, with what must survive a trip through layers: type, mode, owner,
 * mtime, link target, the sha256 of the content, and the xattr names.
 */
async function tarEntries(tar: Buffer): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const entries = extract();
  entries.end(tar);
  for await (const entry of entries) {
    const hash = createHash('sha256');
    for await (const chunk of entry) hash.update(chunk as Buffer);
    const { name, type, mode, uid, gid, mtime, linkname, pax } = entry.header as typeof entry.header & { pax?: Record<string, string> };
    const xattrs = Object.keys(pax ?? {}).filter((key) => key.startsWith('SCHILY.xattr.')).sort();
    found.set(name.replace(/\/$/, ''), { type, mode, uid, gid, mtime: mtime?.getTime(), linkname: linkname ? linkname.replace(/^(\.\/|copied\/)/, '') : null, content: hash.digest('hex'), xattrs });
  }
  return found;
}

/** Everything a load could leave in the data root, to compare before and after a refused one. */
async function storeState(daemon: TestDaemon): Promise<string[]> {
  const state: string[] = [];
  // overlay/: the driver's layers, among them those unpacked while an archive streamed in.
  for (const dir of ['content/ingest', 'content/blobs/sha256', 'layers/pending', 'layers/layers', 'image/images', 'overlay']) {
    for (const name of (await readdir(join(daemon.dataRoot, dir)).catch(() => [])).sort()) state.push(`${dir}/${name}`);
  }
  const images = await call(daemon, 'GET', '/images/json');
  state.push(...(JSON.parse(images.body.toString()) as Array<{ Id: string; RepoTags: string[] }>).map((i) => `${i.Id} ${i.RepoTags}`));
  return state;
}

describe('image archives', () => {
  let daemon!: TestDaemon;
  useBusyboxDaemon((d) => (daemon = d));

  test('loads Docker 20.10 and Podman 4.3 archives (plain, gzip, zstd, OCI) with their ids, tags and layers', async () => {
    const cases: Array<[string, string[], Array<[string, string, string[]]>]> = [
      ['docker-20.10-save.tar.zst', ['Loaded image: fixture/app:1', 'Loaded image: fixture/app:latest'], [['fixture/app:latest', APP_ID, [BASE, APP_RUN]]]],
      [
        'docker-20.10-save-two-images.tar.gz',
        ['Loaded image: fixture/caps:1', 'Loaded image: fixture/app:1'],
        [
          ['fixture/caps:1', CAPS_ID, [BASE, CAPS_ADD]],
          ['fixture/app:1', APP_ID, [BASE, APP_RUN]],
        ],
      ],
      [
        'podman-4.3-docker-archive.tar.gz',
        ['Loaded image: localhost/fixture/app:latest', 'Loaded image: localhost/fixture/app:1'],
        [['localhost/fixture/app:1', PODMAN_ID, [BASE, PODMAN_RUN]]],
      ],
      ['podman-4.3-oci-archive.tar', ['Loaded image: localhost/fixture/app:1'], [['localhost/fixture/app:1', PODMAN_ID, [BASE, PODMAN_RUN]]]],
    ];
    for (const [file, lines, images] of cases) {
      const out = await cli(daemon, `"$DOCKER" load -i ${join(FIXTURES, file)}`);
      assert.deepEqual(out.trim().split('\n'), lines, file);
      for (const [name, id, layers] of images) {
        const image = await inspect(daemon, name);
        assert.equal(image.Id, id, `${file}: ${name}`);
        assert.deepEqual(image.RootFS.Layers, layers, `${file}: ${name}`);
      }
    }
    // The layers the images share are stored once.
    const layerDirs = await readdir(join(daemon.dataRoot, 'layers/layers'));
    assert.equal(layerDirs.filter((hex) => hex === BASE.slice(7)).length, 1);
  });

  test('loaded images run with their layers: files, whiteouts, env, and a binary security.capability', async () => {
    const app = await cli(daemon, `"$DOCKER" run --rm --network none fixture/app:1 sh -c 'cat /hello /d/f; ls /bin/vi 2>&1; echo A=$A'`);
    assert.equal(app, 'hello\nx\nls: /bin/vi: No such file or directory\nA=1\n');
    const podman = await cli(daemon, `"$DOCKER" run --rm --network none localhost/fixture/app:1 sh -c 'cat /hello; ls /bin/vi 2>&1 || true'`);
    assert.equal(podman, 'hello\nls: /bin/vi: No such file or directory\n');
    // The xattr as the kernel keeps it on the file of the image's layer.
    const layerFile = execFileSync('bash', ['-c', `find ${daemon.dataRoot} -path '*/opt/capfile' -not -path '*/merged/*' | head -1`], { encoding: 'utf8' }).trim();
    assert.ok(layerFile, 'no /opt/capfile under the data root');
    assert.deepEqual(lgetxattr(layerFile, 'security.capability'), CAPABILITY);
  });

  test('save writes the OCI layout with manifest.json and repositories; a round trip keeps ids and layer digests', async (t) => {
    const dir = await tempDir(t, 'save');
    const archive = join(dir, 'saved.tar');
    await cli(daemon, `"$DOCKER" save -o ${archive} fixture/app fixture/caps:1`);
    const files = await tarFiles(await readFile(archive));
    const names = [...files.keys()];
    assert.deepEqual(names.slice(0, 2), ['blobs/', 'blobs/sha256/']);
    assert.deepEqual(names.slice(-4), ['index.json', 'manifest.json', 'oci-layout', 'repositories']);
    for (const [name, { data, type }] of files) {
      if (name.startsWith('blobs/sha256/') && type === 'file') assert.equal(sha256(data), `sha256:${name.slice(13)}`, `${name} holds its digest`);
    }
    assert.equal(files.get('oci-layout')!.data.toString(), '{"imageLayoutVersion": "1.0.0"}');
    const manifest = JSON.parse(files.get('manifest.json')!.data.toString()) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    assert.deepEqual(
      manifest.map((m) => [m.Config, m.RepoTags, m.Layers]),
      [
        [`blobs/sha256/${APP_ID.slice(7)}`, ['fixture/app:1', 'fixture/app:latest'], [BASE, APP_RUN].map((d) => `blobs/sha256/${d.slice(7)}`)],
        [`blobs/sha256/${CAPS_ID.slice(7)}`, ['fixture/caps:1'], [BASE, CAPS_ADD].map((d) => `blobs/sha256/${d.slice(7)}`)],
      ],
    );
    assert.deepEqual(JSON.parse(files.get('repositories')!.data.toString()), {
      'fixture/app': { 1: APP_RUN.slice(7), latest: APP_RUN.slice(7) },
      'fixture/caps': { 1: CAPS_ADD.slice(7) },
    });
    const index = JSON.parse(files.get('index.json')!.data.toString()) as { mediaType: string; manifests: Array<{ digest: string; annotations: Record<string, string> }> };
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      index.manifests.map((m) => m.annotations['io.containerd.image.name']),
      ['docker.io/fixture/app:1', 'docker.io/fixture/app:latest', 'docker.io/fixture/caps:1'],
    );
    const ociManifest = JSON.parse(files.get(`blobs/sha256/${index.manifests[0]!.digest.slice(7)}`)!.data.toString()) as {
      config: { digest: string };
      layers: Array<{ digest: string; mediaType: string }>;
    };
    assert.equal(ociManifest.config.digest, APP_ID);
    assert.deepEqual(ociManifest.layers.map((l) => l.digest), [BASE, APP_RUN]);

    await cli(daemon, `"$DOCKER" rmi fixture/app:1 fixture/app:latest fixture/caps:1`);
    const out = await cli(daemon, `"$DOCKER" load -i ${archive}`);
    assert.deepEqual(out.trim().split('\n'), ['Loaded image: fixture/app:1', 'Loaded image: fixture/app:latest', 'Loaded image: fixture/caps:1']);
    assert.equal((await inspect(daemon, 'fixture/app:1')).Id, APP_ID);
    assert.deepEqual((await inspect(daemon, 'fixture/caps:1')).RootFS.Layers, [BASE, CAPS_ADD]);
    // Saving again gives the same bytes: nothing in the archive depends on when it was made.
    const again = join(dir, 'again.tar');
    await cli(daemon, `"$DOCKER" save fixture/app fixture/caps:1 > ${again}`);
    assert.equal(sha256(await readFile(again)), sha256(await readFile(archive)));
  });

  test('berth save | berth load through pipes; an image saved by id loads untagged; -q and the old tag renamed', async () => {
    const berth = join(REPO_ROOT, 'bin/berth');
    const out = await cli(daemon, `node ${berth} save fixture/caps:1 | node ${berth} load -q`);
    assert.equal(out, 'Loaded image: fixture/caps:1\n');
    const byId = await cli(daemon, `"$DOCKER" save ${CAPS_ID.slice(7, 19)} | "$DOCKER" load`);
    assert.equal(byId, `Loaded image ID: ${CAPS_ID}\n`);
    for (const [name, message] of [['nope:1', 'reference does not exist'], ['nope', 'No such image: nope']]) {
      const refused = await run(DOCKER, ['save', '-o', join(tmpdir(), 'berth-refused-save.tar'), name], { env: daemon.env }).catch((err: { stderr: string; code: number }) => err);
      assert.equal((refused as { stderr: string }).stderr.trim(), `Error response from daemon: ${message}`);
    }
    const viaImage = await cli(daemon, `node ${berth} image save fixture/app:1 | node ${berth} image load`);
    assert.equal(viaImage, 'Loaded image: fixture/app:1\n');
    // A tag that named another image moves, as Docker says.
    await cli(daemon, `"$DOCKER" tag busybox fixture/caps:1`);
    const busyboxId = (await inspect(daemon, 'busybox')).Id;
    const renamed = await call(daemon, 'POST', '/images/load', await readFile(join(FIXTURES, 'docker-20.10-save-two-images.tar.gz')));
    assert.equal(renamed.status, 200);
    assert.match(renamed.body.toString(), new RegExp(`The image fixture/caps:1 already exists, renaming the old one with ID ${busyboxId} to empty string`));
    assert.equal((await inspect(daemon, 'fixture/caps:1')).Id, CAPS_ID);
  });

  test('import from a file, stdin, a zstd tar and a directory, with --change, --message and --platform', async (t) => {
    const dir = await tempDir(t, 'import');
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'etc'), { recursive: true });
    await writeFile(join(tree, 'etc', 'hello'), 'from a directory\n');
    const berth = join(REPO_ROOT, 'bin/berth');
    const id = (await cli(daemon, `node ${berth} import --platform linux/arm64 -m 'a tree' -c 'ENV A=1' ${tree} imp:dir`)).trim();
    const image = await inspect(daemon, 'imp:dir');
    assert.equal(image.Id, id);
    assert.equal(image.Architecture, 'arm64');
    assert.equal(image.Comment, 'a tree');
    const layer = (await tarFiles((await call(daemon, 'GET', '/images/imp:dir/get')).body)).get(`blobs/sha256/${image.RootFS.Layers[0]!.slice(7)}`)!;
    const entries = await tarFiles(layer.data);
    assert.equal(entries.get('./etc/hello')?.data.toString(), 'from a directory\n');

    const tar = await buildTar([{ name: 'f', content: 'zstd\n' }]);
    await writeFile(join(dir, 'f.tar.zst'), zstdCompress(tar));
    await cli(daemon, `"$DOCKER" import ${join(dir, 'f.tar.zst')} imp:zst && "$DOCKER" import - imp:stdin < ${join(dir, 'f.tar.zst')}`);
    // A compressed import keeps its layer's diff ID: the digest of the tar inside.
    assert.deepEqual((await inspect(daemon, 'imp:zst')).RootFS.Layers, [sha256(tar)]);
    assert.deepEqual((await inspect(daemon, 'imp:stdin')).RootFS.Layers, [sha256(tar)]);
    // Saved, a compressed layer goes out as the tar inside it, named by its diff ID.
    const saved = await tarFiles((await call(daemon, 'GET', '/images/imp:zst/get')).body);
    assert.ok(saved.get(`blobs/sha256/${sha256(tar).slice(7)}`)?.data.equals(tar));
    const refused = await run(DOCKER, ['import', '--platform', 'windows/amd64', join(dir, 'f.tar.zst')], { env: daemon.env }).catch((err: { stderr: string }) => err);
    assert.match((refused as { stderr: string }).stderr, /operating system is not supported: windows/);
  });

  test('layers as they are: modes, owners, mtimes, hard links, sparse files and binary xattrs survive import → commit → save → load', async (t) => {
    const dir = await tempDir(t, 'as-they-are');
    const src = join(dir, 'src');
    const BIN = Buffer.from([0xff, 0x00, 0x80, 0x0a, 0x41]);
    execFileSync('bash', ['-c', [
      `mkdir -p ${src}/dir && cd ${src}`,
      `printf '#!/bin/sh\\necho cap\\n' > caps && chmod 0755 caps`,
      `echo owned > owned && chown 1000:1000 owned && chmod 0640 owned && touch -h -d '2020-01-01 00:00:00Z' owned`,
      `echo linked > dir/a && ln dir/a dir/b && chmod 0700 dir`,
      `truncate -s 8M sparse && printf x | dd of=sparse bs=1 seek=4194304 conv=notrunc status=none`,
    ].join(' && ')]);
    lsetxattr(join(src, 'caps'), 'security.capability', CAPABILITY);
    lsetxattr(join(src, 'owned'), 'user.bin', BIN);
    const input = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--sparse', '--format=pax', '--numeric-owner', '--sort=name', '-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
    await writeFile(join(dir, 'in.tar'), input);
    await cli(daemon, `"$DOCKER" import ${join(dir, 'in.tar')} bfb:base`);
    const base = await inspect(daemon, 'bfb:base');
    // The imported layer is kept as it came: saved, it is the input byte for byte.
    const baseSaved = await tarFiles((await call(daemon, 'GET', '/images/bfb:base/get')).body);
    assert.ok(baseSaved.get(`blobs/sha256/${base.RootFS.Layers[0]!.slice(7)}`)!.data.equals(input));

    const created = await call(daemon, 'POST', '/containers/create', Buffer.from(JSON.stringify({ Image: 'bfb:base', Cmd: ['none'] })));
    const container = (JSON.parse(created.body.toString()) as { Id: string }).Id;
    t.after(() => call(daemon, 'DELETE', `/containers/${container}?force=1`));
    const copied = await call(daemon, 'PUT', `/containers/${container}/archive?path=/&noOverwriteDirNonDir=1`, await buildTar([{ name: 'copied/', type: 'directory' }]));
    assert.equal(copied.status, 200, copied.body.toString());
    assert.equal((await call(daemon, 'PUT', `/containers/${container}/archive?path=/copied`, input)).status, 200);
    const committed = await call(daemon, 'POST', `/commit?container=${container}&repo=bfb&tag=c`);
    if (committed.status === 404) return t.skip('POST /commit is not served by this build (the images-meta work adds it)');
    assert.equal(committed.status, 201, committed.body.toString());
    const first = (await call(daemon, 'GET', '/images/bfb:c/get')).body;
    const image = await inspect(daemon, 'bfb:c');
    const layer = (await tarFiles(first)).get(`blobs/sha256/${image.RootFS.Layers[1]!.slice(7)}`)!.data;

    // The commit's layer holds what was copied in as the input tar has it.
    const inputEntries = await tarEntries(input);
    const layerEntries = await tarEntries(layer);
    for (const [name, entry] of inputEntries) {
      // The sparse file is checked below, as it lands on disk: GNU tar stores it in its own sparse form.
      if (name === '.' || name.includes('GNUSparseFile')) continue;
      const committedEntry = layerEntries.get(`copied/${name.replace(/^\.\//, '')}`);
      assert.ok(committedEntry, `${name} is in the committed layer`);
      assert.deepEqual(committedEntry, entry, name);
    }
    for (const [key, value] of [['security.capability', CAPABILITY], ['user.bin', BIN]] as const) {
      const record = Buffer.concat([Buffer.from(`SCHILY.xattr.${key}=`), value, Buffer.from('\n')]);
      assert.ok(input.includes(record) && layer.includes(record), `${key} is the raw value in both tars`);
    }

    // Load gives back the same ids; saving again gives the same archive, byte for byte.
    await cli(daemon, `"$DOCKER" rm -f ${container} && "$DOCKER" rmi bfb:c bfb:base`);
    assert.equal((await call(daemon, 'POST', '/images/load', first)).status, 200);
    assert.equal((await inspect(daemon, 'bfb:c')).Id, image.Id);
    const second = (await call(daemon, 'GET', '/images/bfb:c/get')).body;
    assert.equal(sha256(second), sha256(first));
    // And the loaded layer's sparse file is sparse on disk again.
    const sparse = execFileSync('bash', ['-c', `find ${daemon.dataRoot} -path '*/copied/sparse' -not -path '*/merged/*' | head -1`], { encoding: 'utf8' }).trim();
    const blocks = Number(execFileSync('stat', ['-c', '%b', sparse], { encoding: 'utf8' }));
    assert.ok(blocks * 512 < 1024 * 1024, `${sparse} takes ${blocks * 512} bytes for 8 MiB`);
    const expected = Buffer.alloc(8 * 1024 * 1024);
    expected[4 * 1024 * 1024] = 0x78;
    assert.ok((await readFile(sparse)).equals(expected), 'the sparse file has its content');
  });

  test('archives Podman saves now load with its image id (skips where Debian\'s podman is not installed)', async (t) => {
    if (!hasCommand('podman')) return t.skip('podman is not installed here (apt-get install podman); the fixtures above were made with it');
    const dir = await tempDir(t, 'podman');
    const podman = (args: string[]) =>
      execFileSync('podman', ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--cgroup-manager=cgroupfs', '--events-backend=file', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
    await writeFile(join(dir, 'rootfs.tar'), Buffer.concat(await packBusyboxRootfs().toArray()));
    podman(['import', '-c', 'CMD ["sh"]', join(dir, 'rootfs.tar'), 'live/podman:1']);
    const id = `sha256:${podman(['image', 'inspect', '--format', '{{.Id}}', 'live/podman:1']).trim()}`;
    for (const format of ['docker-archive', 'oci-archive']) {
      const archive = join(dir, `${format}.tar`);
      podman(['save', '--format', format, '-o', archive, 'localhost/live/podman:1']);
      const out = await cli(daemon, `"$DOCKER" load -i ${archive}`);
      assert.match(out, /Loaded image: localhost\/live\/podman:1/, format);
      assert.equal((await inspect(daemon, 'localhost/live/podman:1')).Id, id, format);
      await cli(daemon, `"$DOCKER" rmi localhost/live/podman:1`);
    }
    try {
      podman(['rmi', '-a', '-f']);
    } catch {
      // The store goes with the temp dir.
    }
  });

  describe('hostile archives get a clear error and leave nothing behind', () => {
    const layerTar = () => buildTar([{ name: 'f', content: 'x\n' }]);
    // Past the reader's SMALL_FILE_BYTES: stored, and unpacked on a guess, as it streams in.
    const bigLayer = (entries: TarEntry[]) => buildTar([{ name: 'padding', content: randomBytes(BIG_FILE_BYTES) }, ...entries]);
    async function archiveWith(extra: TarEntry[], options: { layer?: Buffer; diffId?: string; layerPath?: string; manifest?: unknown } = {}): Promise<Buffer> {
      const layer = options.layer ?? (await layerTar());
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [options.diffId ?? sha256(layer)] } }));
      const layerPath = options.layerPath ?? `blobs/sha256/${sha256(layer).slice(7)}`;
      const manifest = options.manifest ?? [{ Config: `blobs/sha256/${sha256(config).slice(7)}`, RepoTags: ['hostile:1'], Layers: [layerPath] }];
      return buildTar([
        { name: `blobs/sha256/${sha256(layer).slice(7)}`, content: layer },
        { name: `blobs/sha256/${sha256(config).slice(7)}`, content: config },
        ...extra,
        { name: 'manifest.json', content: JSON.stringify(manifest) },
      ]);
    }

    const cases: Array<[string, () => Promise<Buffer>, RegExp]> = [
      ['a name climbing out with ..', () => archiveWith([{ name: '../../evil', content: 'x' }]), /entry \.\.\/\.\.\/evil leads outside the archive/],
      ['an absolute name', () => archiveWith([{ name: '/etc/evil', content: 'x' }]), /entry \/etc\/evil has an absolute path/],
      [
        'a layer reached through a symlink out of the archive',
        () => archiveWith([{ name: 'layer.tar', type: 'symlink', linkname: '../../../etc/passwd' }], { layerPath: 'layer.tar' }),
        /link layer\.tar leads outside the archive/,
      ],
      ['a hard link out of the archive', () => archiveWith([{ name: 'stolen', type: 'link', linkname: '../etc/shadow' }]), /link stolen leads outside the archive/],
      ['a device node', () => archiveWith([{ name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }]), /entry dev is a character-device, which has no place/],
      ['a truncated archive', async () => (await archiveWith([])).subarray(0, 1536), /invalid image archive/],
      [
        'a corrupt gzip stream',
        async () => {
          const gz = gzipSync(await archiveWith([]));
          gz.fill(0x55, 40, 80);
          return gz;
        },
        /invalid image archive/,
      ],
      [
        'a manifest naming a missing blob',
        () => archiveWith([], { layerPath: `blobs/sha256/${'0'.repeat(64)}` }),
        new RegExp(`layer 0 blobs/sha256/${'0'.repeat(64)} is missing from the archive`),
      ],
      ['a blob that is not what its name says', () => archiveWith([{ name: `blobs/sha256/${'1'.repeat(64)}`, content: 'other' }]), /does not hold the blob its name says/],
      ['a layer whose diff ID is not the config’s', () => archiveWith([], { diffId: `sha256:${'2'.repeat(64)}` }), /invalid diffID for layer 0/],
      [
        'a layer whose entry climbs out with ..',
        async () => archiveWith([], { layer: await buildTar([{ name: '../../../evil', content: 'x' }]) }),
        /loading layer 0: .*is outside of the layer/,
      ],
      [
        'a layer whose symlink climbs out',
        async () => archiveWith([], { layer: await buildTar([{ name: 'etc/up', type: 'symlink', linkname: '../../..' }]) }),
        /invalid symlink "etc\/up"/,
      ],
      ['a layer that is not a tar', () => archiveWith([], { layer: Buffer.from('not a tar at all, just text '.repeat(40)) }), /loading layer 0/],
      [
        'a big layer whose entry climbs out with ..',
        async () => archiveWith([], { layer: await bigLayer([{ name: '../../../evil', content: 'x' }]) }),
        /loading layer 0: .*is outside of the layer/,
      ],
      ['a big layer that is not a tar', () => archiveWith([], { layer: randomBytes(BIG_FILE_BYTES) }), /loading layer 0/],
      ['a big layer whose diff ID is not the config’s', async () => archiveWith([], { layer: await bigLayer([]), diffId: `sha256:${'2'.repeat(64)}` }), /invalid diffID for layer 0/],
      ['a tar that is no image archive', () => buildTar([{ name: 'bin/sh', content: 'x' }]), /neither manifest\.json nor index\.json/],
      ['a manifest.json that is not JSON', () => archiveWith([], { manifest: 'not json' }).then((b) => b), /manifest\.json item 0|not a list|not valid JSON/],
      ['a decompression bomb', async () => zstdCompress(Buffer.alloc(0), { zeros: 80 * 1024 * 1024 }), /decompression bomb/],
    ];
    for (const [what, make, message] of cases) {
      test(what, async () => {
        const before = await storeState(daemon);
        const res = await call(daemon, 'POST', '/images/load', await make());
        assert.equal(res.status, 400, res.body.toString());
        assert.match((JSON.parse(res.body.toString()) as { message: string }).message, message);
        assert.deepEqual(await storeState(daemon), before);
      });
    }
  });

  test('a big layer unpacks while the archive streams in, before its manifest; big files that are no layer are dropped', async () => {
    const before = await storeState(daemon);
    const layer = await buildTar([{ name: 'padding', content: randomBytes(BIG_FILE_BYTES) }, { name: 'streamed-marker', content: 'here\n' }]);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
    const layerPath = `blobs/sha256/${sha256(layer).slice(7)}`;
    const configPath = `blobs/sha256/${sha256(config).slice(7)}`;
    const archive = await buildTar([
      { name: layerPath, content: layer },
      // A tar and bytes that are no tar, both big enough to be unpacked on a guess.
      { name: 'extra/other.tar', content: await buildTar([{ name: 'not-a-layer', content: randomBytes(BIG_FILE_BYTES) }]) },
      { name: 'extra/noise.bin', content: randomBytes(BIG_FILE_BYTES) },
      { name: configPath, content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: configPath, RepoTags: ['ahead:1'], Layers: [layerPath] }]) },
    ]);
    const driverLayersWith = async (name: string) => {
      const ids = await readdir(join(daemon.dataRoot, 'overlay'));
      const found = await Promise.all(ids.map((id) => readFile(join(daemon.dataRoot, 'overlay', id, 'diff', name)).then(() => id, () => undefined)));
      return found.filter((id) => id !== undefined);
    };
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: daemon.socket, method: 'POST', path: '/images/load', headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      // The layer's entry (its header, then its data in whole blocks); the rest waits for the unpacked layer.
      const layerEntry = 512 + Math.ceil(layer.length / 512) * 512;
      req.write(archive.subarray(0, layerEntry));
      void (async () => {
        for (const end = Date.now() + 20_000; (await driverLayersWith('streamed-marker')).length === 0; await new Promise((r) => setTimeout(r, 20))) {
          if (Date.now() > end) {
            req.destroy(new Error('the layer was not unpacked while the rest of the archive was held back'));
            return;
          }
        }
        req.end(archive.subarray(layerEntry));
      })();
    });
    const res = await answered;
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /Loaded image: ahead:1/);
    assert.deepEqual((await inspect(daemon, 'ahead:1')).RootFS.Layers, [sha256(layer)]);
    assert.equal((await driverLayersWith('streamed-marker')).length, 1);
    assert.deepEqual(await driverLayersWith('not-a-layer'), []);
    await cli(daemon, `"$DOCKER" rmi ahead:1`);
    assert.deepEqual(await storeState(daemon), before);
  });

  test('a client that goes away in the middle of a load leaves nothing behind', async () => {
    const before = await storeState(daemon);
    const archive = await readFile(join(FIXTURES, 'podman-4.3-oci-archive.tar'));
    await new Promise<void>((resolve) => {
      const req = request({ socketPath: daemon.socket, method: 'POST', path: '/images/load', headers: { 'Content-Type': 'application/x-tar' } });
      req.on('error', () => resolve());
      req.write(archive.subarray(0, 600 * 1024), () => setTimeout(() => req.destroy(), 100));
    });
    let after: string[] = [];
    for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      after = await storeState(daemon);
      if (after.join() === before.join()) break;
    }
    assert.deepEqual(after, before);
  });

  test('save and load are image events', async () => {
    const res = await call(daemon, 'GET', `/events?since=0&until=${Math.ceil(Date.now() / 1000) + 1}&filters=${encodeURIComponent('{"type":["image"]}')}`);
    const events = res.body.toString().trim().split('\n').map((line) => JSON.parse(line) as { Action: string; Actor: { ID: string } });
    assert.ok(events.some((e) => e.Action === 'load' && e.Actor.ID === CAPS_ID), 'a load event');
    assert.ok(events.some((e) => e.Action === 'save' && e.Actor.ID === APP_ID), 'a save event');
  });

  test('concurrent loads sharing layers do not corrupt each other', async () => {
    const archives = await Promise.all(
      ['docker-20.10-save-two-images.tar.gz', 'podman-4.3-oci-archive.tar'].map((file) => readFile(join(FIXTURES, file))),
    );
    await cli(daemon, `"$DOCKER" rmi -f fixture/app:1 fixture/app:latest fixture/caps:1 localhost/fixture/app:1 localhost/fixture/app:latest`);
    const results = await Promise.all([0, 1, 0, 1, 0, 1].map((i) => call(daemon, 'POST', '/images/load', archives[i])));
    for (const res of results) assert.equal(res.status, 200, res.body.toString());
    assert.equal((await inspect(daemon, 'fixture/caps:1')).Id, CAPS_ID);
    assert.equal((await inspect(daemon, 'localhost/fixture/app:1')).Id, PODMAN_ID);
    const run = await cli(daemon, `"$DOCKER" run --rm --network none fixture/app:1 cat /hello`);
    assert.equal(run, 'hello\n');
    const ingest = await readdir(join(daemon.dataRoot, 'content/ingest'));
    assert.deepEqual(ingest, []);
  });
});
