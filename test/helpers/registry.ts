/**
 * A CNCF Distribution registry (Debian's docker-registry) of a test's own on 127.0.0.1 with a
 * free port: plain HTTP, htpasswd basic auth, TLS from a test CA, or bearer tokens from a token
 * server of the test's own. stop() ends every process it started and removes its folder.
 * Details: ../shared/notes/registry.md.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const run = promisify(execFile);

export interface TestRegistry {
  /** "127.0.0.1:PORT", as image names use it. */
  host: string;
  url: string;
  dir: string;
  /** The registry's process (for its CPU time). */
  pid: number;
  /** PEM of the test CA (TLS mode). */
  caPem?: string;
  /** Requests the token server answered (bearer mode): their scopes. */
  tokenScopes: string[][];
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: 'none' | 'basic' | 'token';
  tls?: boolean;
  users?: Record<string, string>;
  /** TLS mode: clients must show a certificate signed by the test CA (client.cert/client.key in `dir`). */
  clientCerts?: boolean;
  /** Token mode: the actions a user may have on a repository (default: all asked for). */
  grant?: (user: string, access: Access) => string[];
}

export interface Access {
  type: string;
  name: string;
  actions: string[];
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** libtrust key ID: base32(sha256(DER SPKI)[0:30]), 12 groups of 4 joined by ':'. */
function libtrustKid(pub: crypto.KeyObject): string {
  const h = crypto.createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest();
  const bits = [...h.subarray(0, 30)].map((x) => x.toString(2).padStart(8, '0')).join('');
  const s = bits.match(/.{5}/g)!.map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[parseInt(b, 2)]).join('');
  return s.match(/.{4}/g)!.join(':');
}

function signToken(keyPem: string, certPem: string, claims: { iss: string; aud: string; sub: string; access: Access[] }): string {
  const key = crypto.createPrivateKey(keyPem);
  const header = { typ: 'JWT', alg: 'ES256', kid: libtrustKid(new crypto.X509Certificate(certPem).publicKey) };
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify({ ...claims, exp: now + 300, nbf: now - 1, iat: now, jti: crypto.randomUUID() }))}`;
  return `${input}.${b64u(crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** A CA and a server certificate for 127.0.0.1 signed by it, in `dir`. */
export async function makeTestCa(dir: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=berth-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  await openssl(dir, ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', 'server.crt', '-extfile', 'server.ext']);
}

/** client.cert and client.key, signed by the CA of makeTestCa, as certs.d names them. */
async function makeClientCert(dir: string): Promise<void> {
  await openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=berth-client']);
  await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  await openssl(dir, ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', 'client.cert', '-extfile', 'client.ext']);
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-'));
  const children: ChildProcess[] = [];
  let tokenServer: http.Server | undefined;
  const tokenScopes: string[][] = [];
  const stop = async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
    }
    if (tokenServer) await new Promise((r) => tokenServer!.close(r));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const users = options.users ?? { alice: 's3cret' };
    let auth = '';
    if (options.auth === 'basic') {
      const lines = await Promise.all(Object.entries(users).map(async ([u, p]) => (await run('htpasswd', ['-Bbn', u, p])).stdout.trim()));
      await writeFile(join(dir, 'htpasswd'), lines.join('\n') + '\n');
      auth = `auth:\n  htpasswd: {realm: test-realm, path: ${join(dir, 'htpasswd')}}\n`;
    } else if (options.auth === 'token') {
      await openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'token.key', '-out', 'token.crt', '-days', '1', '-subj', '/CN=token-signer']);
      const keyPem = await readFile(join(dir, 'token.key'), 'utf8');
      const certPem = await readFile(join(dir, 'token.crt'), 'utf8');
      const grant = options.grant ?? ((_u: string, a: Access) => a.actions);
      tokenServer = http.createServer((req, res) => {
        const q = new URL(req.url!, 'http://x').searchParams;
        const [user, password] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
        if (req.headers.authorization && users[user] !== password) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end('{"details":"incorrect username or password"}');
          return;
        }
        const scopes = q.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
        tokenScopes.push(scopes);
        const access = scopes.map((s) => {
          const i = s.indexOf(':');
          const j = s.lastIndexOf(':');
          const a = { type: s.slice(0, i), name: s.slice(i + 1, j), actions: s.slice(j + 1).split(',') };
          return { ...a, actions: user ? grant(user, a) : a.actions.filter((x) => x === 'pull') };
        });
        const token = signToken(keyPem, certPem, { iss: 'test-issuer', aud: q.get('service') ?? '', sub: user ?? '', access });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token, expires_in: 300 }));
      });
      await new Promise<void>((r) => tokenServer!.listen(0, '127.0.0.1', () => r()));
      const port = (tokenServer.address() as { port: number }).port;
      auth = `auth:\n  token: {realm: "http://127.0.0.1:${port}/token", service: test-registry, issuer: test-issuer, rootcertbundle: ${join(dir, 'token.crt')}}\n`;
    }
    let tls = '';
    let caPem: string | undefined;
    if (options.tls) {
      await makeTestCa(dir);
      caPem = await readFile(join(dir, 'ca.crt'), 'utf8');
      const clientCas = options.clientCerts ? `, clientcas: [${join(dir, 'ca.crt')}]` : '';
      if (options.clientCerts) await makeClientCert(dir);
      tls = `  tls: {certificate: ${join(dir, 'server.crt')}, key: ${join(dir, 'server.key')}${clientCas}}\n`;
    }
    const config = [
      'version: 0.1',
      'log: {level: info, accesslog: {disabled: true}}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}, maintenance: {uploadpurging: {enabled: false}}}`,
      'http:',
      '  addr: 127.0.0.1:0',
      '  secret: not-a-secret',
      tls,
      auth,
    ].join('\n');
    await writeFile(join(dir, 'config.yml'), config);
    const child = spawn('setpriv', ['--pdeathsig', 'SIGTERM', '--', 'docker-registry', 'serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let log = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening on" line:\n${log}`)), 10_000);
      child.stderr!.on('data', (d: Buffer) => {
        log += d;
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`registry exited ${code ?? sig}:\n${log}`));
      });
    });
    const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    const clientPair = options.clientCerts ? { cert: await readFile(join(dir, 'client.cert')), key: await readFile(join(dir, 'client.key')) } : {};
    for (let tries = 0; ; tries++) {
      if (tries > 500) throw new Error(`the registry did not answer on ${url}:\n${log}`);
      const ready = await new Promise<boolean>((res) =>
        (options.tls ? https : http).get(`${url}/v2/`, { ca: caPem, ...clientPair }, (r) => { r.resume(); res(true); }).on('error', () => res(false)),
      );
      if (ready) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    return { host: `127.0.0.1:${port}`, url, dir, pid: child.pid!, caPem, tokenScopes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const sha256Of = (bytes: Buffer) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;

/** Uploads a blob to a plain-HTTP registry (a monolithic upload: POST, then PUT with the digest). */
export async function putBlob(registry: TestRegistry, repo: string, blob: Buffer): Promise<void> {
  const started = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(started.headers.get('location')!, registry.url);
  location.searchParams.set('digest', sha256Of(blob));
  const put = await fetch(location, { method: 'PUT', body: new Uint8Array(blob), headers: { 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
}

/**
 * A layer as `putImage` stores it: its tar, gzipped or not, and the diff ID its config names (the
 * tar's own when absent). `zstdAsGzip`: zstd bytes under the gzip media type, as a registry fed by
 * a misconfigured tool serves them.
 */
export interface PutLayer {
  tar: Buffer;
  gzip?: boolean;
  zstdAsGzip?: boolean;
  diffId?: string;
}

/**
 * Writes an image straight into a plain-HTTP registry, with no engine: its layer blobs, a config
 * naming their diff IDs, and a Docker v2 schema 2 manifest at repo:tag. Resolves with the bytes of
 * its layer blobs.
 */
export async function putImage(registry: TestRegistry, repo: string, tag: string, layers: PutLayer[]): Promise<number> {
  const blobs = layers.map((layer) => (layer.zstdAsGzip ? execFileSync('zstd', ['-q', '-c'], { input: layer.tar, maxBuffer: 1 << 28 }) : layer.gzip ? zlib.gzipSync(layer.tar) : layer.tar));
  for (const blob of blobs) await putBlob(registry, repo, blob);
  const diffIds = layers.map((layer) => layer.diffId ?? sha256Of(layer.tar));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds }, history: layers.map(() => ({})) }));
  await putBlob(registry, repo, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256Of(config) },
    layers: blobs.map((blob, i) => ({
      mediaType: `application/vnd.docker.image.rootfs.diff.tar${layers[i]!.gzip || layers[i]!.zstdAsGzip ? '.gzip' : ''}`,
      size: blob.length,
      digest: sha256Of(blob),
    })),
  });
  const put = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' } });
  if (put.status !== 201) throw new Error(`manifest upload: ${put.status} ${await put.text()}`);
  return blobs.reduce((total, blob) => total + blob.length, 0);
}
