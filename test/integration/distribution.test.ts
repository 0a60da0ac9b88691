/**
 * Pull, push, login and logout against real CNCF Distribution registries on 127.0.0.1 (plain,
 * htpasswd basic auth, bearer tokens from a token server of the test's own), through berthd's API
 * and the berth CLI; and the faults a real registry will not produce on demand, against a
 * registry that misbehaves on purpose: each leaves no image, no blob and no download behind.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { extract } from 'tar-stream';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { rawRequest } from '../helpers/http.js';
import { putImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildTar } from '../unit/archive-fixtures.js';
import { startFaultRegistry, type FaultRegistry } from '../helpers/fault-registry.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POST /images/create through the socket; the progress lines, or the HTTP error. */
function pullRaw(daemon: TestDaemon, fromImage: string, options: { tag?: string; platform?: string; signal?: AbortSignal } = {}) {
  const query = new URLSearchParams({ fromImage, ...(options.tag ? { tag: options.tag } : {}), ...(options.platform ? { platform: options.platform } : {}) });
  return new Promise<{ status: number; lines: Array<Record<string, unknown>>; body: string }>((resolve, reject) => {
    const req = request({ socketPath: daemon.socket, method: 'POST', path: `/v1.50/images/create?${query}`, signal: options.signal }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        const lines = body.split('\n').filter((l) => l.trim() && res.statusCode === 200).map((l) => JSON.parse(l) as Record<string, unknown>);
        resolve({ status: res.statusCode ?? 0, lines, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The error a pull ended with: an HTTP error body, or the stream's error line. */
function pullError(result: { status: number; lines: Array<Record<string, unknown>>; body: string }): string {
  if (result.status !== 200) return (JSON.parse(result.body) as { message: string }).message;
  const last = result.lines.find((l) => l.error !== undefined);
  return last ? String(last.error) : '';
}

type PullResult = Awaited<ReturnType<typeof pullRaw>>;

/**
 * Waits (on a loaded machine too) until a download file holds `bytes`: `pull` is under way. A pull
 * that ends first fails the wait at once, saying how it ended (e.g. its layer taken for present).
 */
async function waitForPartial(daemon: TestDaemon, bytes: number, pull: Promise<PullResult | undefined>): Promise<void> {
  const dir = join(daemon.dataRoot, 'distribution/downloads');
  let ended: string | undefined;
  void pull.then((result) => (ended = result ? pullError(result) || `it succeeded: ${JSON.stringify(result.lines)}` : 'the request failed'));
  for (let i = 0; i < 1000; i++) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if ((await stat(join(dir, name)).catch(() => undefined))?.size === bytes) return;
    }
    if (ended !== undefined) throw new Error(`the pull ended before a download of ${bytes} bytes was seen: ${ended}`);
    await sleep(20);
  }
  throw new Error(`no download of ${bytes} bytes under way`);
}

async function inspect(daemon: TestDaemon, name: string): Promise<{ Id: string; RepoDigests: string[]; RepoTags: string[] }> {
  const { stdout } = await daemon.berth(['image', 'inspect', name]);
  return (JSON.parse(stdout) as Array<{ Id: string; RepoDigests: string[]; RepoTags: string[] }>)[0];
}

/** Blobs, downloads and layers in the data root: what a failed pull must not add to. */
async function stored(daemon: TestDaemon): Promise<string[]> {
  const found: string[] = [];
  for (const dir of ['content/blobs/sha256', 'distribution/downloads', 'layers/layers', 'layers/pending', 'content/ingest']) {
    for (const name of await readdir(join(daemon.dataRoot, dir)).catch(() => [])) found.push(`${dir}/${name}`);
  }
  return found.sort();
}

describe('distribution', () => {
  let daemon: TestDaemon;
  let dockerConfig: string;
  const registries: TestRegistry[] = [];
  let faulty: FaultRegistry;
  let certsDir: string;
  let mirror: TestRegistry;
  const path = process.env.PATH;

  before(async () => {
    dockerConfig = await mkdtemp(join(tmpdir(), 'berth-docker-config-'));
    // A credential helper of the test's own (docker-credential-berthtest): keeps one secret in a file.
    await mkdir(join(dockerConfig, 'bin'));
    await writeFile(
      join(dockerConfig, 'bin', 'docker-credential-berthtest'),
      `#!/bin/sh\nstore=${join(dockerConfig, 'helper-store.json')}\ncase "$1" in\n  store) cat > "$store" ;;\n  get) cat > /dev/null; [ -f "$store" ] && cat "$store" || { echo "credentials not found in native keychain"; exit 1; } ;;\n  erase) cat > /dev/null; rm -f "$store" ;;\nesac\n`,
      { mode: 0o755 },
    );
    process.env.PATH = `${join(dockerConfig, 'bin')}:${process.env.PATH}`;
    certsDir = await mkdtemp(join(tmpdir(), 'berth-certs-d-'));
    mirror = await startRegistry();
    registries.push(mirror);
    daemon = await startDaemon({
      dockerConfig,
      env: { BERTH_REGISTRY_STALL_TIMEOUT_MS: '1500' },
      daemonJson: { 'registry-certs-dir': certsDir, 'registry-mirrors': [mirror.url], 'max-concurrent-downloads': 2 },
    });
    await daemon.berth(['image', 'busybox']);
    faulty = await startFaultRegistry();
  });
  after(async () => {
    await daemon?.stop();
    for (const registry of registries) await registry.stop();
    await faulty?.stop();
    await rm(dockerConfig, { recursive: true, force: true });
    await rm(certsDir, { recursive: true, force: true });
    process.env.PATH = path;
  });

  const registry = async (options: Parameters<typeof startRegistry>[0] = {}) => {
    const started = await startRegistry(options);
    registries.push(started);
    return started;
  };

  test('a pushed image pulled back has the same image id and manifest digest, and runs', async () => {
    const reg = await registry();
    const name = `${reg.host}/test/bb:v1`;
    await daemon.berth(['tag', 'busybox', name]);
    const before = await inspect(daemon, name);
    const pushed = await daemon.berth(['push', name]);
    const digest = /v1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(pushed.stdout)?.[1];
    assert.ok(digest, pushed.stdout);
    assert.match(pushed.stdout, /The push refers to repository \[127\.0\.0\.1:\d+\/test\/bb\]/);
    assert.match(pushed.stdout, /: Pushed/);
    // The registry holds exactly these manifest bytes.
    const manifest = await fetch(`${reg.url}/v2/test/bb/manifests/v1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    const manifestBytes = Buffer.from(await manifest.arrayBuffer());
    assert.equal(`sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`, digest);
    // What the registry holds, asked through berthd without pulling (docker-py's inspect_distribution).
    const described = await rawRequest(daemon.socket, 'GET', `/v1.50/distribution/${name}/json`);
    assert.equal(described.status, 200, described.body);
    assert.deepEqual(JSON.parse(described.body), {
      Descriptor: { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest, size: manifestBytes.length },
      Platforms: [{ architecture: 'amd64', os: 'linux' }],
    });
    const missing = await rawRequest(daemon.socket, 'GET', `/v1.50/distribution/${reg.host}/test/bb:nope/json`);
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).message, /manifest for 127\.0\.0\.1:\d+\/test\/bb:nope not found/);

    await daemon.berth(['rmi', name, 'busybox']);
    await daemon.berth(['image', 'busybox']);
    await daemon.berth(['rmi', 'busybox']);
    const pulled = await daemon.berth(['pull', name]);
    assert.match(pulled.stdout, /v1: Pulling from test\/bb/);
    assert.match(pulled.stdout, /Pull complete/);
    assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
    assert.match(pulled.stdout, new RegExp(`Status: Downloaded newer image for ${name}`));
    const after = await inspect(daemon, name);
    assert.equal(after.Id, before.Id);
    assert.deepEqual(after.RepoDigests, [`${reg.host}/test/bb@${digest}`]);
    assert.equal((await daemon.berth(['run', '--rm', name, 'echo', 'pulled'])).stdout, 'pulled\n');

    const again = await daemon.berth(['pull', name]);
    assert.match(again.stdout, new RegExp(`Status: Image is up to date for ${name}`));
    const byDigest = await daemon.berth(['pull', `${reg.host}/test/bb@${digest}`]);
    assert.match(byDigest.stdout, /Image is up to date/);
    // rmi of the tag takes the digest reference of the same repository with it, as moby.
    const removed = await daemon.berth(['rmi', name]);
    assert.match(removed.stdout, new RegExp(`Untagged: ${reg.host}/test/bb@${digest}`));
    await daemon.berth(['image', 'busybox']);
  });

  test('run and create pull a missing image; --pull never refuses; --pull always pulls', async () => {
    const reg = await registry();
    const name = `${reg.host}/app:latest`;
    await daemon.berth(['tag', 'busybox', name]);
    await daemon.berth(['push', name]);
    await daemon.berth(['rmi', name]);
    const never = await daemon.berth(['run', '--rm', '--pull', 'never', name, 'true'], { allowFailure: true });
    assert.notEqual(never.code, 0);
    assert.match(never.stderr, /No such image/);
    const run = await daemon.berth(['run', '--rm', name, 'echo', 'ok']);
    assert.match(run.stderr, new RegExp(`Unable to find image '${name}' locally`));
    assert.equal(run.stdout, 'ok\n');
    const always = await daemon.berth(['run', '--rm', '--pull', 'always', name, 'true']);
    assert.match(always.stderr, /Image is up to date/);
    await daemon.berth(['rmi', name]);
  });

  test('a push of layers of several MiB: each blob arrives whole (the registry checks its digest), with "Pushing" up to its size', async () => {
    const source = await registry();
    const target = await registry();
    const tars = await Promise.all([5, 3].map((mib, i) => buildTar([{ name: `f${i}.bin`, type: 'file', mode: 0o644, content: randomBytes(mib * 1024 * 1024 + 777) }])));
    await putImage(source, 'big/layers', 'v1', tars.map((tar) => ({ tar })));
    await daemon.berth(['pull', '-q', `${source.host}/big/layers:v1`]);
    await daemon.berth(['tag', `${source.host}/big/layers:v1`, `${target.host}/big/layers:v1`]);
    const pushed = await rawRequest(daemon.socket, 'POST', `/v1.50/images/${encodeURIComponent(`${target.host}/big/layers`)}/push?tag=v1`);
    const lines = pushed.body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { status?: string; id?: string; error?: string; progressDetail?: { current?: number; total?: number } });
    assert.equal(lines.find((l) => l.error)?.error, undefined);
    for (const tar of tars) {
      const digest = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
      const blob = Buffer.from(await (await fetch(`${target.url}/v2/big/layers/blobs/${digest}`)).arrayBuffer());
      assert.ok(blob.equals(tar), `the registry's ${digest} is not the blob pushed`);
    }
    const pushing = lines.filter((l) => l.status === 'Pushing');
    for (const id of new Set(pushing.map((l) => l.id))) {
      const currents = pushing.filter((l) => l.id === id).map((l) => l.progressDetail!.current!);
      assert.deepEqual(currents, [...currents].sort((a, b) => a - b));
      assert.ok(tars.some((tar) => tar.length === currents.at(-1)), `the last "Pushing" of ${id} says ${currents.at(-1)} bytes`);
    }
    assert.equal(new Set(pushing.map((l) => l.id)).size, 2);
    assert.equal(lines.filter((l) => l.status === 'Pushed').length, 2);
    await daemon.berth(['rmi', `${source.host}/big/layers:v1`, `${target.host}/big/layers:v1`]);
  });

  test('pull --all-tags fetches every tag of the repository; push -a pushes every local tag', async () => {
    const reg = await registry();
    await daemon.berth(['tag', 'busybox', `${reg.host}/every:one`]);
    await daemon.berth(['tag', 'busybox', `${reg.host}/every:two`]);
    const pushed = await daemon.berth(['push', '-a', `${reg.host}/every`]);
    assert.match(pushed.stdout, /one: digest: sha256:/);
    assert.match(pushed.stdout, /two: digest: sha256:/);
    await daemon.berth(['rmi', `${reg.host}/every:one`, `${reg.host}/every:two`]);
    const tagged = await daemon.berth(['pull', '-a', `${reg.host}/every:one`], { allowFailure: true });
    assert.match(tagged.stderr, /tag can be used only with --all-tags\/-a/);
    const pulled = await daemon.berth(['pull', '-a', `${reg.host}/every`]);
    assert.match(pulled.stdout, /one: Pulling from every/);
    assert.match(pulled.stdout, /two: Pulling from every/);
    assert.deepEqual((await inspect(daemon, `${reg.host}/every:one`)).RepoTags.sort(), [`${reg.host}/every:one`, `${reg.host}/every:two`, 'busybox:latest']);
    await daemon.berth(['rmi', `${reg.host}/every:one`, `${reg.host}/every:two`]);
  });

  test('basic auth: refused without credentials, login checks the password, config.json keeps them, logout removes them', async () => {
    const reg = await registry({ auth: 'basic', users: { alice: 's3cret' } });
    const name = `${reg.host}/private/bb:latest`;
    await daemon.berth(['tag', 'busybox', name]);
    const anonymous = await daemon.berth(['push', name], { allowFailure: true });
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /unauthorized: authentication required/);

    const wrong = await daemon.berth(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'nope\n', allowFailure: true });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /login attempt to https?:\/\/127\.0\.0\.1:\d+\/v2\/ failed with status: 401 Unauthorized/);
    assert.doesNotMatch(wrong.stderr, /nope/);

    const login = await daemon.berth(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 's3cret\n' });
    assert.match(login.stdout, /Login Succeeded/);
    const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(config.auths[reg.host].auth, 'base64').toString(), 'alice:s3cret');

    await daemon.berth(['push', name]);
    await daemon.berth(['rmi', name]);
    await daemon.berth(['pull', name]);
    assert.equal((await inspect(daemon, name)).RepoTags[0], name);
    await daemon.berth(['rmi', name]);

    assert.match((await daemon.berth(['logout', reg.host])).stdout, new RegExp(`Removing login credentials for ${reg.host}`));
    assert.match((await daemon.berth(['logout', reg.host])).stdout, /Not logged in/);
    const gone = await daemon.berth(['pull', name], { allowFailure: true });
    assert.match(gone.stderr, /unauthorized: authentication required/);
    // berthd logs every request: no password in its log.
    assert.doesNotMatch(await readFile(join(daemon.dataRoot, '..', 'berthd.log'), 'utf8'), /s3cret/);
  });

  test('build --pull pulls the FROM image although one of that name is here, with the login X-Registry-Config carries', async () => {
    const reg = await registry({ auth: 'basic', users: { bob: 'b0bpw' } });
    const name = `${reg.host}/base:1`;
    await daemon.berth(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'b0bpw\n' });
    const dir = await mkdtemp(join(tmpdir(), 'berth-build-pull-'));
    // Every image the builds make goes at the end: left as children of busybox, they would keep
    // it (and its id) here for the tests after this one.
    const made: string[] = [];
    const build = async (...args: string[]) => made.push((await daemon.berth(['build', '-q', ...args])).stdout.trim());
    try {
      await daemon.berth(['tag', 'busybox', name]);
      await daemon.berth(['push', name]);
      // The name now stands for a local image the registry does not have.
      await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN touch /local-only\n');
      await build('-t', name, dir);
      await writeFile(join(dir, 'Dockerfile'), `FROM ${name}\nCMD ["sh", "-c", "test -e /local-only && echo local || echo pulled"]\n`);
      await build('-t', 'from-base', dir);
      assert.equal((await daemon.berth(['run', '--rm', '--network', 'none', 'from-base'])).stdout, 'local\n');
      await build('--pull', '-t', 'from-base', dir);
      assert.equal((await daemon.berth(['run', '--rm', '--network', 'none', 'from-base'])).stdout, 'pulled\n');
      await daemon.berth(['logout', reg.host]);
      const anonymous = await daemon.berth(['build', '-q', '--pull', dir], { allowFailure: true });
      assert.notEqual(anonymous.code, 0);
      assert.match(anonymous.stderr, /unauthorized: authentication required/);
    } finally {
      await daemon.berth(['logout', reg.host], { allowFailure: true });
      await daemon.berth(['rmi', '-f', name, ...made.reverse()], { allowFailure: true });
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a credential helper named by credsStore stores, gives and erases the credentials', async () => {
    const reg = await registry({ auth: 'basic', users: { dave: 'h3lper' } });
    const configFile = join(dockerConfig, 'config.json');
    const before = await readFile(configFile, 'utf8').catch(() => '{}');
    await writeFile(configFile, JSON.stringify({ ...JSON.parse(before), credsStore: 'berthtest' }));
    try {
      const login = await daemon.berth(['login', '-u', 'dave', '--password-stdin', reg.host], { input: 'h3lper\n' });
      assert.doesNotMatch(login.stderr, /stored unencrypted/);
      assert.deepEqual(JSON.parse(await readFile(join(dockerConfig, 'helper-store.json'), 'utf8')), { ServerURL: reg.host, Username: 'dave', Secret: 'h3lper' });
      assert.doesNotMatch(await readFile(configFile, 'utf8'), /h3lper/);
      const name = `${reg.host}/helped:latest`;
      await daemon.berth(['tag', 'busybox', name]);
      await daemon.berth(['push', name]);
      await daemon.berth(['rmi', name]);
      await daemon.berth(['logout', reg.host]);
      await assert.rejects(readFile(join(dockerConfig, 'helper-store.json')), { code: 'ENOENT' });
    } finally {
      await writeFile(configFile, before);
    }
  });

  test('bearer tokens: push and pull with the scopes they need, a second repository mounts the blobs', async () => {
    const reg = await registry({ auth: 'token', users: { bob: 'pw' } });
    await daemon.berth(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'pw\n' });
    try {
      const first = `${reg.host}/team/one:latest`;
      const second = `${reg.host}/team/two:latest`;
      await daemon.berth(['tag', 'busybox', first]);
      await daemon.berth(['tag', 'busybox', second]);
      await daemon.berth(['push', first]);
      const mounted = await daemon.berth(['push', second]);
      assert.match(mounted.stdout, /Mounted from team\/one/);
      assert.ok(reg.tokenScopes.some((s) => s.includes('repository:team/two:pull,push') && s.includes('repository:team/one:pull')), JSON.stringify(reg.tokenScopes));
      const again = await daemon.berth(['push', second]);
      assert.match(again.stdout, /Layer already exists/);
      await daemon.berth(['rmi', first, second]);
      await daemon.berth(['pull', second]);
      await daemon.berth(['rmi', second]);
    } finally {
      await daemon.berth(['logout', reg.host]);
    }
  });

  test('an index: the host platform is chosen, an absent one is a clear error, the digest recorded is the index', async () => {
    const reg = await registry();
    const name = `${reg.host}/multi:latest`;
    await daemon.berth(['tag', 'busybox', name]);
    const pushed = await daemon.berth(['push', name]);
    const digest = /digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(pushed.stdout)!;
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: ['arm64', 'amd64'].map((architecture) => ({
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        digest: digest[1],
        size: Number(digest[2]),
        platform: { os: 'linux', architecture },
      })),
    });
    const put = await fetch(`${reg.url}/v2/multi/manifests/index`, { method: 'PUT', headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' }, body: index });
    assert.equal(put.status, 201, await put.text());
    const indexDigest = `sha256:${createHash('sha256').update(index).digest('hex')}`;
    await daemon.berth(['rmi', name]);
    await daemon.berth(['pull', `${reg.host}/multi:index`]);
    assert.deepEqual((await inspect(daemon, `${reg.host}/multi:index`)).RepoDigests, [`${reg.host}/multi@${indexDigest}`]);
    const absent = await pullRaw(daemon, `${reg.host}/multi`, { tag: 'index', platform: 'linux/s390x' });
    assert.match(pullError(absent), /no matching manifest for linux\/s390x in the manifest list entries/);
    await daemon.berth(['rmi', `${reg.host}/multi:index`]);
  });

  test('TLS: the client certificate of certs.d/<host:port>/ is shown to a registry that demands one', async () => {
    const reg = await registry({ tls: true, clientCerts: true });
    const name = `${reg.host}/secure/bb:latest`;
    await daemon.berth(['tag', 'busybox', name]);
    const refused = await daemon.berth(['push', name], { allowFailure: true });
    assert.notEqual(refused.code, 0);
    const hostDir = join(certsDir, reg.host);
    await mkdir(hostDir);
    for (const file of ['ca.crt', 'client.cert', 'client.key']) await copyFile(join(reg.dir, file), join(hostDir, file));
    const pushed = await daemon.berth(['push', name]);
    assert.match(pushed.stdout, /Pushed/);
    await daemon.berth(['rmi', name]);
    await daemon.berth(['pull', name]);
    await daemon.berth(['rmi', name]);
  });

  test('registry-mirrors: a Docker Hub name is pulled from the mirror', async () => {
    await daemon.berth(['tag', 'busybox', `${mirror.host}/library/mirrored:1`]);
    await daemon.berth(['push', `${mirror.host}/library/mirrored:1`]);
    await daemon.berth(['rmi', `${mirror.host}/library/mirrored:1`, 'busybox']);
    const pulled = await daemon.berth(['pull', 'mirrored:1']);
    assert.match(pulled.stdout, /1: Pulling from library\/mirrored/);
    assert.match(pulled.stdout, /Status: Downloaded newer image for mirrored:1/);
    assert.match(pulled.stdout, /docker\.io\/library\/mirrored:1\n$/);
    assert.deepEqual((await inspect(daemon, 'mirrored:1')).RepoTags, ['mirrored:1']);
    await daemon.berth(['rmi', 'mirrored:1']);
    await daemon.berth(['image', 'busybox']);
  });

  test('unknown repository or tag, and a registry that is down: Docker\'s errors', async () => {
    const reg = await registry();
    assert.match(pullError(await pullRaw(daemon, `${reg.host}/nothing/here`)), /manifest for 127\.0\.0\.1:\d+\/nothing\/here:latest not found: manifest unknown/);
    const down = await pullRaw(daemon, '127.0.0.1:1/x');
    assert.match(pullError(down), /connect ECONNREFUSED 127\.0\.0\.1:1/);
  });

  const faultCases: Array<[string, FaultRegistry['faults'], RegExp]> = [
    ['a 500', { manifestStatus: 500 }, /unknown: unknown error/],
    ['a blob whose digest does not match', { corruptLayer: true }, /filesystem layer verification failed for digest/],
    // Unpacked as it downloads, the blob fails as what it is (not its digest), not as a broken tar.
    ['a blob that is no tar and not its digest', { garbageLayer: true }, /filesystem layer verification failed for digest/],
    ['a malformed manifest', { manifestBody: Buffer.from('{"schemaVersion":2,"layers":"x"}') }, /malformed manifest/],
    ['an oversized manifest', { manifestBody: Buffer.alloc(5 * 1024 * 1024, 0x20) }, /malformed manifest: \d+ bytes is more than/],
    ['a registry stalling mid-blob', { stallLayerAfter: 1000 }, /timeout/],
    ['a registry closing the connection mid-blob', { cutLayerAfter: 70_000 }, /expected 263680 bytes, got 70000/],
  ];
  for (const [what, faults, error] of faultCases) {
    test(`${what}: a clear error, nothing left behind`, async () => {
      const before = await stored(daemon);
      faulty.faults = faults;
      try {
        assert.match(pullError(await pullRaw(daemon, `${faulty.host}/test/img`)), error);
      } finally {
        faulty.faults = {};
      }
      assert.deepEqual(await stored(daemon), before);
      assert.equal((await daemon.berth(['images', '-q', `${faulty.host}/test/img`])).stdout, '');
    });
  }

  test('a client gone cancels the download; the next pull resumes it with a range; two pulls share one download', async () => {
    faulty.faults = { stallLayerAfter: 100_000 };
    const ranges = faulty.layerRanges.length;
    const aborts = faulty.layerAborts;
    const gone = new AbortController();
    const abandoned = pullRaw(daemon, `${faulty.host}/test/img`, { signal: gone.signal }).catch(() => undefined);
    await waitForPartial(daemon, 100_000, abandoned);
    gone.abort();
    await abandoned;
    for (let i = 0; i < 1000 && faulty.layerAborts === aborts; i++) await sleep(10);
    assert.equal(faulty.layerAborts, aborts + 1, 'the download went on after its only client left');

    faulty.faults = { slowLayerMs: 30 };
    const both = await Promise.all([pullRaw(daemon, `${faulty.host}/test/img`), pullRaw(daemon, `${faulty.host}/test/img`)]);
    faulty.faults = {};
    for (const result of both) assert.equal(pullError(result), '');
    assert.deepEqual(faulty.layerRanges.slice(ranges + 1), ['bytes=100000-']);
    await daemon.berth(['rmi', `${faulty.host}/test/img`]);
    // Both pulls recorded the one image: removing it leaves no layer for the next pull to take as present.
    const layerDir = join(daemon.dataRoot, 'layers/layers', faulty.layerDigest.replace('sha256:', ''));
    assert.equal(await stat(layerDir).then(() => 'left behind', () => 'gone'), 'gone');
  });

  test('a pull cut short by kill -9 of berthd resumes after the restart', async () => {
    faulty.faults = { stallLayerAfter: 50_000 };
    const ranges = faulty.layerRanges.length;
    const cut = pullRaw(daemon, `${faulty.host}/test/img`).catch(() => undefined);
    await waitForPartial(daemon, 50_000, cut);
    daemon.process.kill('SIGKILL');
    await cut;
    faulty.faults = {};
    await daemon.restart();
    assert.equal(pullError(await pullRaw(daemon, `${faulty.host}/test/img`)), '');
    assert.deepEqual(faulty.layerRanges.slice(ranges + 1), ['bytes=50000-']);
    await daemon.berth(['rmi', `${faulty.host}/test/img`]);
  });

  test('the extractor reading the registry\'s connection dies with berthd: the partial file stops growing, the next pull resumes it', async () => {
    // A registry still sending: an extractor left running would go on appending to the file the
    // next berthd resumes.
    faulty.faults = { slowLayerMs: 400 };
    const ranges = faulty.layerRanges.length;
    const cut = pullRaw(daemon, `${faulty.host}/test/img`).catch(() => undefined);
    const extractor = await socketExtractor();
    daemon.process.kill('SIGKILL');
    await cut;
    for (let i = 0; i < 100 && (await isRunning(extractor)); i++) await sleep(20);
    assert.equal(await isRunning(extractor), false, 'the extractor outlived berthd');
    const partial = join(daemon.dataRoot, 'distribution/downloads', `${faulty.layerDigest.replace('sha256:', '')}.partial`);
    const kept = (await stat(partial)).size;
    await sleep(900); // two more of the registry's pieces, had anything gone on reading them
    assert.equal((await stat(partial)).size, kept);
    faulty.faults = {};
    await daemon.restart();
    assert.equal(pullError(await pullRaw(daemon, `${faulty.host}/test/img`)), '');
    assert.deepEqual(faulty.layerRanges.slice(ranges + 1), [`bytes=${kept}-`]);
    await daemon.berth(['rmi', `${faulty.host}/test/img`]);
  });
});

/** The pid of a berth-untar reading a registry's connection itself (--socket), once one runs. */
async function socketExtractor(): Promise<number> {
  for (let i = 0; i < 500; i++) {
    for (const pid of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(pid)) continue;
      const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (argv.includes('berth-untar') && argv.includes('\0--socket\0')) return Number(pid);
    }
    await sleep(10);
  }
  throw new Error('no berth-untar read a registry connection itself');
}

async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) Z/s.test(stat);
}

/**
 * Layers over layers, on both storage drivers: on overlay the layers of a pull unpack at once and
 * are chained to their parents as those are registered; on vfs one after the other. Either way the
 * image's files are its layers' in order (a whiteout deletes a file of a lower layer, an opaque
 * directory hides a lower one's files), and a pull that fails leaves no layer behind.
 */
for (const storageDriver of ['overlay', 'vfs']) {
  describe(`distribution: a pull of three layers (${storageDriver})`, () => {
    let daemon: TestDaemon;
    let reg: TestRegistry;
    let scratch: string;

    before(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'berth-layers-pull-'));
      reg = await startRegistry();
      daemon = await startDaemon({ storageDriver });
    });
    after(async () => {
      await daemon?.stop();
      await reg?.stop();
      await rm(scratch, { recursive: true, force: true });
    });

    /** The files of a container made from `image` (not started), with their contents. */
    async function filesOf(image: string): Promise<Record<string, string>> {
      const name = `files-${Math.random().toString(36).slice(2, 8)}`;
      await daemon.berth(['create', '--name', name, image, 'true']);
      const file = join(scratch, `${name}.tar`);
      await daemon.berth(['export', '-o', file, name]);
      await daemon.berth(['rm', name]);
      const files: Record<string, string> = {};
      const entries = extract();
      entries.end(await readFile(file));
      for await (const entry of entries) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        if (entry.header.type === 'file') files[entry.header.name] = Buffer.concat(chunks).toString();
      }
      return files;
    }

    const layerDirs = async () => (await readdir(join(daemon.dataRoot, 'layers/layers'))).concat(await readdir(join(daemon.dataRoot, 'layers/pending')));

    test('each layer over the one under it; "Already exists" for those present; none left after rmi', async () => {
      // The first gzipped (hashed as unpacked), the others plain tars (their digest is their diff ID).
      const base = { tar: await buildTar([{ name: 'etc/hostname', content: 'a' }, { name: 'kept', content: 'k' }, { name: 'dir/old', content: 'o' }]), gzip: true };
      const middle = { tar: await buildTar([{ name: 'dir/.wh..wh..opq' }, { name: 'dir/new', content: 'n' }, { name: 'big', content: Buffer.alloc(3 << 20, 1) }]) };
      const top = { tar: await buildTar([{ name: 'etc/.wh.hostname' }, { name: 'c', content: 'c' }]) };
      const other = { tar: await buildTar([{ name: 'd', content: 'd' }]) };
      await putImage(reg, 'three', 'v1', [base, middle, top]);
      await putImage(reg, 'three', 'v2', [base, middle, other]);

      const pulled = await daemon.berth(['pull', `${reg.host}/three:v1`]);
      const completed = [...pulled.stdout.matchAll(/^(\w{12}): Pull complete$/gm)].map((m) => m[1]);
      assert.equal(completed.length, 3, pulled.stdout);
      const files = await filesOf(`${reg.host}/three:v1`);
      assert.deepEqual(Object.keys(files).sort(), ['big', 'c', 'dir/new', 'kept']);
      assert.equal(files.kept, 'k');

      const partial = await daemon.berth(['pull', `${reg.host}/three:v2`]);
      assert.equal([...partial.stdout.matchAll(/: Already exists$/gm)].length, 2, partial.stdout);
      assert.equal([...partial.stdout.matchAll(/: Pull complete$/gm)].length, 1, partial.stdout);
      assert.deepEqual(Object.keys(await filesOf(`${reg.host}/three:v2`)).sort(), ['big', 'd', 'dir/new', 'etc/hostname', 'kept']);

      await daemon.berth(['rmi', `${reg.host}/three:v1`, `${reg.host}/three:v2`]);
      assert.deepEqual(await layerDirs(), []);
    });

    test('a zstd layer under the gzip media type is pulled (its bytes, not its label, say how it is read)', async () => {
      const base = { tar: await buildTar([{ name: 'zfile', content: Buffer.alloc(2 << 20, 7) }]), zstdAsGzip: true };
      const top = { tar: await buildTar([{ name: 'plain', content: 'p' }]), gzip: true };
      await putImage(reg, 'mislabelled', 'v1', [base, top]);
      const pulled = await daemon.berth(['pull', `${reg.host}/mislabelled:v1`]);
      assert.equal([...pulled.stdout.matchAll(/: Pull complete$/gm)].length, 2, pulled.stdout);
      const files = await filesOf(`${reg.host}/mislabelled:v1`);
      assert.deepEqual(Object.keys(files).sort(), ['plain', 'zfile']);
      assert.equal(files.zfile!.length, 2 << 20);
      await daemon.berth(['rmi', `${reg.host}/mislabelled:v1`]);
    });

    test('a layer that fails (its diff ID is not the config\'s) fails the pull; the layers over it, unpacked already, are removed', async () => {
      const base = { tar: await buildTar([{ name: 'a', content: Buffer.alloc(2 << 20, 2) }]), diffId: `sha256:${'0'.repeat(64)}` };
      const upper = [1, 2].map(async (i) => ({ tar: await buildTar([{ name: `u${i}`, content: `${i}` }]) }));
      await putImage(reg, 'broken', 'v1', [base, ...(await Promise.all(upper))]);
      const before = await layerDirs();
      const failed = await daemon.berth(['pull', `${reg.host}/broken:v1`], { allowFailure: true });
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, /unpacks to sha256:[0-9a-f]{64}, not the sha256:0{64} the image config names/);
      assert.deepEqual(await layerDirs(), before);
      assert.equal((await daemon.berth(['images', '-q', `${reg.host}/broken`])).stdout, '');
    });
  });
}
