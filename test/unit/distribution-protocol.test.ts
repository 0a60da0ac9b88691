/**
 * The pure parts of the registry client: manifests and indexes (shape checks, platform choice,
 * the bytes a push writes), WWW-Authenticate challenges, Docker's progress text, which
 * registries are insecure, X-Registry-Auth decoding and the pull reference.
 */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { choosePlatform, dockerManifestBytes, MEDIA_TYPE, parseManifest, parsePlatform, type ManifestIndex } from '../../src/engine/distribution/manifest.js';
import { parseChallenge, RegistryAuth } from '../../src/engine/distribution/registry-auth.js';
import { humanSize, progressBar } from '../../src/engine/distribution/progress-bar.js';
import { RegistryHosts } from '../../src/engine/distribution/registry-hosts.js';
import { registryError } from '../../src/engine/distribution/registry-errors.js';
import { decodeRegistryAuth, decodeRegistryConfig } from '../../src/api/routes/distribution-routes.js';
import { pullReference } from '../../src/engine/distribution/pull-service.js';
import { registryHost } from '../../src/engine/distribution/registry-sessions.js';

const D = (c: string) => `sha256:${c.repeat(64)}` as const;

test('a Docker v2 manifest parses; the media type comes from the body, else the header', () => {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: MEDIA_TYPE.ociConfig, digest: D('a'), size: 10 }, layers: [{ mediaType: MEDIA_TYPE.ociLayerGzip, digest: D('b'), size: 5 }] }));
  const parsed = parseManifest(body, `${MEDIA_TYPE.ociManifest}; charset=utf-8`);
  assert.equal(parsed.kind, 'manifest');
  assert.equal(parsed.mediaType, MEDIA_TYPE.ociManifest);
  if (parsed.kind === 'manifest') assert.deepEqual(parsed.layers, [{ mediaType: MEDIA_TYPE.ociLayerGzip, digest: D('b'), size: 5 }]);
});

test('malformed, hostile and unsupported manifests are refused by name', () => {
  const bad = (json: unknown, type: string = MEDIA_TYPE.dockerManifest) => () => parseManifest(Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)), type);
  assert.throws(bad('{not json'), /malformed manifest: not JSON/);
  assert.throws(bad([]), /not a JSON object/);
  assert.throws(bad({ schemaVersion: 1, fsLayers: [] }), /schema 1 manifests are no longer supported/);
  assert.throws(bad({ schemaVersion: 2, config: { digest: 'md5:x', size: 1 }, layers: [] }), /config has no valid sha256 digest/);
  assert.throws(bad({ schemaVersion: 2, config: { digest: D('a'), size: -1 }, layers: [] }), /config has no valid size/);
  assert.throws(bad({ schemaVersion: 2, config: { digest: D('a'), size: 1 }, layers: [{ mediaType: 'text/plain', digest: D('b'), size: 1 }] }), /unsupported layer media type "text\/plain"/);
  assert.throws(bad({ schemaVersion: 2 }, 'application/vnd.example+json'), /unsupported manifest media type/);
  assert.throws(() => parseManifest(Buffer.alloc(4 * 1024 * 1024 + 1, 0x20), MEDIA_TYPE.dockerManifest), /more than the 4194304 allowed/);
});

test('an index picks the platform asked for, the host\'s by default, and names one it lacks', () => {
  const entry = (architecture: string, digest: string, variant?: string) => ({ mediaType: MEDIA_TYPE.dockerManifest, digest: D(digest), size: 1, platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) } });
  const index = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [entry('arm', 'a', 'v7'), entry('arm64', 'b', 'v8'), entry('amd64', 'c')] })), MEDIA_TYPE.ociIndex) as ManifestIndex;
  assert.equal(index.kind, 'index');
  assert.equal(choosePlatform(index, parsePlatform('linux/amd64')).digest, D('c'));
  assert.equal(choosePlatform(index, parsePlatform('linux/arm64')).digest, D('b'));
  assert.equal(choosePlatform(index, parsePlatform('linux/arm/v7')).digest, D('a'));
  assert.throws(() => choosePlatform(index, parsePlatform('linux/s390x')), /no matching manifest for linux\/s390x in the manifest list entries/);
  assert.throws(() => parsePlatform('linux//x/y'), /unknown operating system or architecture/);
});

test('the manifest a push writes is the same bytes every time, Docker\'s layout', () => {
  const bytes = dockerManifestBytes({ digest: D('a'), size: 2 }, [{ mediaType: MEDIA_TYPE.dockerLayerGzip, digest: D('b'), size: 3 }]);
  assert.equal(
    bytes.toString(),
    `{\n   "schemaVersion": 2,\n   "mediaType": "${MEDIA_TYPE.dockerManifest}",\n   "config": {\n      "mediaType": "${MEDIA_TYPE.dockerConfig}",\n      "size": 2,\n      "digest": "${D('a')}"\n   },\n   "layers": [\n      {\n         "mediaType": "${MEDIA_TYPE.dockerLayerGzip}",\n         "size": 3,\n         "digest": "${D('b')}"\n      }\n   ]\n}`,
  );
});

test('WWW-Authenticate challenges: quoted, unquoted, escaped, several scopes in one', () => {
  assert.deepEqual(parseChallenge('Bearer realm="http://t/token",service="reg",scope="repository:a:pull,push repository:b:pull"'), {
    scheme: 'bearer',
    params: { realm: 'http://t/token', service: 'reg', scope: 'repository:a:pull,push repository:b:pull' },
  });
  assert.deepEqual(parseChallenge('Basic realm="x \\"y\\""'), { scheme: 'basic', params: { realm: 'x "y"' } });
  assert.deepEqual(parseChallenge('bearer realm=plain,error=invalid_token'), { scheme: 'bearer', params: { realm: 'plain', error: 'invalid_token' } });
  assert.equal(parseChallenge('Negotiate abc'), undefined);
  assert.equal(parseChallenge(undefined), undefined);
});

test('bearer flow: the token is asked for with service and scopes, basic credentials, once per scope set', async () => {
  const asked: URL[] = [];
  const auth = new RegistryAuth({ username: 'u', password: 'p' }, async (url, init) => {
    asked.push(url);
    assert.equal(init.headers.Authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
    return { status: 200, body: Buffer.from('{"token":"T1"}') };
  });
  const scopes = ['repository:a:pull'];
  assert.equal(auth.header(scopes), undefined);
  assert.equal(await auth.answer('Bearer realm="http://t/token",service="reg"', scopes, false), true);
  assert.equal(auth.header(scopes), 'Bearer T1');
  assert.equal(asked[0].searchParams.get('service'), 'reg');
  assert.deepEqual(asked[0].searchParams.getAll('scope'), ['repository:a:pull']);
  // Refused although authorised: no second try.
  assert.equal(await auth.answer('Bearer realm="http://t/token",error="insufficient_scope"', scopes, true), false);
  const refused = new RegistryAuth({ username: 'u', password: 'bad' }, async () => ({ status: 401, body: Buffer.from('{}') }));
  await assert.rejects(refused.answer('Bearer realm="http://t/token"', scopes, false), (err: Error) => /incorrect username or password/.test(err.message) && !err.message.includes('bad'));
  // Basic without credentials: nothing to offer.
  assert.equal(await new RegistryAuth({}, async () => assert.fail()).answer('Basic realm="r"', scopes, false), false);
});

test('registry errors in distribution\'s words, with the request as Go prints it', () => {
  const body = Buffer.from('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}');
  const err = registryError(404, body, 'GET', 'http://r/v2/a/manifests/x');
  assert.equal(err.message, 'Get "http://r/v2/a/manifests/x": manifest unknown: manifest unknown');
  assert.equal(err.kind, 'not-found');
  assert.equal(registryError(401, Buffer.alloc(0), 'HEAD', 'http://r/v2/a/blobs/x').message, 'Head "http://r/v2/a/blobs/x": unauthorized: authentication required');
  assert.match(registryError(502, Buffer.from('<html>'), 'GET', 'http://r/v2/').message, /unexpected status from GET request to http:\/\/r\/v2\/: 502 Bad Gateway/);
});

test('progress text as dockerd writes it', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(1_048_576), '1.049MB');
  assert.equal(humanSize(999), '999B');
  assert.equal(progressBar(524_288, 1_048_576), `[${'='.repeat(25)}>${' '.repeat(25)}] ${'524.3kB'.padStart(8)}/1.049MB`);
  assert.equal(progressBar(10, 10), `[${'='.repeat(50)}>] ${'10B'.padStart(8)}/10B`);
});

test('insecure registries: loopback always, listed names and CIDRs; endpoints try HTTPS first', async () => {
  const certsDir = await mkdtemp(join(tmpdir(), 'berth-certs-'));
  try {
    const hosts = new RegistryHosts({ insecureRegistries: ['myreg:5000', '10.1.0.0/16'], registryMirrors: ['https://mirror.example:5001'], certsDir });
    assert.equal(hosts.isInsecure('127.0.0.1:5000'), true);
    assert.equal(hosts.isInsecure('localhost:5000'), true);
    assert.equal(hosts.isInsecure('myreg:5000'), true);
    assert.equal(hosts.isInsecure('10.1.200.3:443'), true);
    assert.equal(hosts.isInsecure('10.2.0.1'), false);
    assert.equal(hosts.isInsecure('registry.example.com'), false);
    assert.deepEqual((await hosts.endpoints('myreg:5000', 'pull')).map((e) => e.base), ['https://myreg:5000', 'http://myreg:5000']);
    assert.deepEqual((await hosts.endpoints('registry.example.com', 'push')).map((e) => e.base), ['https://registry.example.com']);
    assert.deepEqual((await hosts.endpoints('docker.io', 'pull')).map((e) => e.base), ['https://mirror.example:5001', 'https://registry-1.docker.io']);
    assert.deepEqual((await hosts.endpoints('docker.io', 'push')).map((e) => e.base), ['https://registry-1.docker.io']);
    // certs.d: CA files join the system roots; a client key needs its certificate.
    await mkdir(join(certsDir, 'registry.example.com'));
    await writeFile(join(certsDir, 'registry.example.com', 'ca.crt'), 'CA PEM');
    const [endpoint] = await hosts.endpoints('registry.example.com', 'pull');
    assert.equal(endpoint.tls?.ca?.at(-1), 'CA PEM');
    await writeFile(join(certsDir, 'registry.example.com', 'client.key'), 'KEY');
    await assert.rejects(hosts.endpoints('registry.example.com', 'pull'), /missing client certificate client.cert/);
    assert.throws(() => new RegistryHosts({ insecureRegistries: ['http://x'], registryMirrors: [], certsDir }), /should not contain '::\/\/'|should not contain ':\/\/'/);
    assert.throws(() => new RegistryHosts({ insecureRegistries: [], registryMirrors: ['mirror'], certsDir }), /invalid mirror/);
  } finally {
    await rm(certsDir, { recursive: true, force: true });
  }
});

test('X-Registry-Auth and X-Registry-Config: base64url JSON; unreadable means anonymous', () => {
  const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  assert.deepEqual(decodeRegistryAuth(encode({ username: 'a', password: 'b?>', serveraddress: 'r' })), { username: 'a', password: 'b?>', identitytoken: undefined, registrytoken: undefined });
  assert.deepEqual(decodeRegistryAuth(encode({ auth: Buffer.from('x:y:z').toString('base64') })), { username: 'x', password: 'y:z', identitytoken: undefined, registrytoken: undefined });
  assert.deepEqual(decodeRegistryAuth('e30='), { username: undefined, password: undefined, identitytoken: undefined, registrytoken: undefined });
  assert.deepEqual(decodeRegistryAuth('%%%'), {});
  assert.deepEqual(decodeRegistryAuth(undefined), {});
  assert.equal(decodeRegistryConfig(encode({ 'r:5000': { username: 'u', password: 'p' } })).get('r:5000')?.username, 'u');
});

test('the pull reference: tag and digest parameters, registry of a login address', () => {
  assert.equal(pullReference('busybox', 'latest').path, 'library/busybox');
  assert.equal(pullReference('127.0.0.1:5000/a/b', 'v1').tag, 'v1');
  assert.equal(pullReference('a', D('c')).digest, D('c'));
  assert.equal(pullReference('a@' + D('d'), undefined).digest, D('d'));
  assert.equal(registryHost(''), 'docker.io');
  assert.equal(registryHost('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(registryHost('http://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
});
