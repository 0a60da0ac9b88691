/**
 * docker cp and docker export against berthd, with the real docker CLI and with berth, on both
 * storage drivers, into and out of running and stopped containers; and the escapes cp must not
 * allow: symlinks and `..` out of the root, the symlink-swap race (CVE-2018-15664) and a
 * container library loaded by the copying process (CVE-2019-14271).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmod, chown, link, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { runOnPty } from '../helpers/pty.js';

const DOCKER = '/usr/local/bin/docker';

interface Result {
  stdout: string;
  stderr: string;
  code: number;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<Result & { raw: Buffer }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { env, encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), code, raw: stdout });
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(input);
  });
}

/** The entries of a tar as `tar tv` lists them: "mode owner size name" lines (times left out). */
function listing(tar: Buffer): string[] {
  const text = execFileSync('tar', ['tv', '--numeric-owner'], { input: tar }).toString('utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [mode, owner, size, , , ...name] = line.split(/\s+/);
      return `${mode} ${owner} ${size} ${name.join(' ')}`;
    });
}

function tarOf(entries: Array<{ name: string; content?: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string }>): Promise<Buffer> {
  const archive = pack();
  for (const { name, content = '', type = 'file', linkname } of entries) archive.entry({ name, type, linkname, mode: type === 'directory' ? 0o755 : 0o644 }, content);
  archive.finalize();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    archive.on('data', (chunk: Buffer) => chunks.push(chunk));
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
  });
}

/** A raw API request with a binary body; the answer's status, headers and body. */
function api(daemon: TestDaemon, method: string, path: string, body?: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: daemon.socket, method, path: `/v1.50${path}`, headers: body ? { 'Content-Type': 'application/x-tar' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function assertOk(result: Result): void {
  assert.equal(result.code, 0, result.stderr);
}

const pathStat = (header: unknown) => JSON.parse(Buffer.from(String(header), 'base64').toString('utf8')) as { name: string; size: number; mode: number; linkTarget: string };

const MATRIX = [
  { storageDriver: 'overlay', defaultRuntime: 'crun' },
  { storageDriver: 'vfs', defaultRuntime: 'runc' },
];

for (const combo of MATRIX) {
  describe(`cp and export on ${combo.storageDriver}`, { timeout: 400_000 }, () => {
    let daemon: TestDaemon;
    let work: string;
    const docker = (args: string[], input?: string | Buffer) => run(DOCKER, args, daemon.env, input);
    const berth = (args: string[], input?: string | Buffer) => run(process.execPath, [join(import.meta.dirname, '../../../bin/berth'), ...args], daemon.env, input);

    before(async () => {
      daemon = await startDaemon(combo);
      await daemon.berth(['image', 'busybox']);
      work = await mkdtemp(join(tmpdir(), 'berth-cp-'));
      // A host tree with what cp must keep: modes, owners, a symlink, a hard link, an empty file.
      const tree = join(work, 'tree');
      await mkdir(join(tree, 'sub'), { recursive: true });
      await writeFile(join(tree, 'f'), 'file content\n');
      await chmod(join(tree, 'f'), 0o640);
      await chown(join(tree, 'f'), 1234, 5678);
      await writeFile(join(tree, 'sub', 'empty'), '');
      await symlink('../f', join(tree, 'sub', 'link'));
      await link(join(tree, 'f'), join(tree, 'hard'));
      await chmod(join(tree, 'sub'), 0o750);
    });
    after(async () => {
      await daemon?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    });

    test('docker cp into a stopped container: the container sees the files with their owners and modes', async () => {
      await docker(['create', '--name', 'stopped', 'busybox', 'sh', '-c', 'ls -ln /tmp/tree/f /tmp/tree/hard; ls -ld /tmp/tree/sub | cut -c1-10; cat /tmp/tree/sub/link; readlink /tmp/tree/sub/link']);
      const mountsBefore = (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((l) => l.includes(daemon.dataRoot)).length;
      const copied = await docker(['cp', join(work, 'tree'), 'stopped:/tmp/']);
      assert.equal(copied.code, 0, copied.stderr);
      const mountsAfter = (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((l) => l.includes(daemon.dataRoot)).length;
      assert.equal(mountsAfter, mountsBefore, 'the layer mounted for the copy is unmounted again');
      const started = await docker(['start', '-a', 'stopped']);
      assert.equal(started.code, 0, started.stderr);
      const lines = started.stdout.split('\n');
      assert.match(lines[0], /^-rw-r-----\s+2 1234\s+5678\s+13 .* \/tmp\/tree\/f$/);
      assert.match(lines[1], /^-rw-r-----\s+2 1234\s+5678\s+13 .* \/tmp\/tree\/hard$/);
      assert.equal(lines[2], 'drwxr-x---');
      assert.equal(lines[3], 'file content');
      assert.equal(lines[4], '../f');
    });

    test('docker cp out of a stopped container, to a directory, a new name and stdout', async () => {
      const out = join(work, 'out-stopped');
      await mkdir(out);
      assertOk(await docker(['cp', 'stopped:/tmp/tree', out]));
      assert.equal(await readFile(join(out, 'tree', 'f'), 'utf8'), 'file content\n');
      assert.equal((await stat(join(out, 'tree', 'f'))).mode & 0o777, 0o640);
      assert.equal((await lstat(join(out, 'tree', 'sub', 'link'))).isSymbolicLink(), true);
      assert.equal((await stat(join(out, 'tree', 'hard'))).ino, (await stat(join(out, 'tree', 'f'))).ino, 'a hard link stays one');
      // A missing destination takes the source's contents under its own name.
      assertOk(await docker(['cp', 'stopped:/tmp/tree', join(out, 'renamed')]));
      assert.deepEqual((await readdir(join(out, 'renamed'))).sort(), ['f', 'hard', 'sub']);
      // `dir/.` copies the contents into an existing directory.
      await mkdir(join(out, 'contents'));
      assertOk(await docker(['cp', 'stopped:/tmp/tree/.', join(out, 'contents')]));
      assert.deepEqual((await readdir(join(out, 'contents'))).sort(), ['f', 'hard', 'sub']);
      // The files a run binds (here the generated /etc/hostname) are there as in a running container.
      const [inspect] = JSON.parse((await docker(['inspect', 'stopped'])).stdout) as Array<{ Config: { Hostname: string } }>;
      const hostname = await docker(['cp', 'stopped:/etc/hostname', '-']);
      assert.equal(hostname.raw.subarray(512, 512 + inspect.Config.Hostname.length + 1).toString('utf8'), `${inspect.Config.Hostname}\n`);
      const tar = await docker(['cp', 'stopped:/tmp/tree', '-']);
      assert.deepEqual(listing(tar.raw), [
        'drwxr-xr-x 0/0 0 tree/',
        '-rw-r----- 1234/5678 13 tree/f',
        'hrw-r----- 1234/5678 0 tree/hard link to tree/f',
        'drwxr-x--- 0/0 0 tree/sub/',
        '-rw-r--r-- 0/0 0 tree/sub/empty',
        'lrwxrwxrwx 0/0 0 tree/sub/link -> ../f',
      ]);
    });

    test('docker cp into and out of a running container, mounts included, kernel views left out', async () => {
      const started = await docker(['run', '-d', '--name', 'running', 'busybox', 'sh', '-c', 'while [ ! -f /tmp/in/zz-done ]; do sleep 0.05; done; cat /tmp/in/msg; exec sleep 600']);
      assert.equal(started.code, 0, started.stderr);
      const input = join(work, 'in');
      await mkdir(input);
      await writeFile(join(input, 'msg'), 'seen inside\n');
      await writeFile(join(input, 'zz-done'), ''); // last in the tar (names in order): msg is there when it appears
      assertOk(await docker(['cp', input, 'running:/tmp/in']));
      for (let i = 0; i < 100 && !(await docker(['logs', 'running'])).stdout.includes('seen inside'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await docker(['logs', 'running'])).stdout, 'seen inside\n');
      // /etc/hostname is a bind mount of the running container, which the copy sees.
      const hostname = await docker(['cp', 'running:/etc/hostname', '-']);
      const [inspect] = JSON.parse((await docker(['inspect', 'running'])).stdout) as Array<{ Config: { Hostname: string } }>;
      assert.match(hostname.raw.subarray(512).toString('utf8'), new RegExp(`^${inspect.Config.Hostname}\n`));
      const proc = await docker(['cp', 'running:/proc/self/status', '-']);
      assert.equal(proc.code, 1);
      assert.equal(proc.stderr, 'Error response from daemon: Could not find the file /proc/self/status in container running\n');
      const root = listing((await docker(['cp', 'running:/', '-'])).raw).map((line) => line.split(' ').at(-1));
      assert.ok(root.includes('/etc/passwd') && root.includes('/tmp/in/msg'), 'the root is packed with names from /');
      assert.ok(root.includes('/proc/') && !root.some((name) => name!.startsWith('/proc/1')), 'proc is an empty directory');
    });

    test('HEAD archive reports the stat as Docker encodes it', async () => {
      const dir = await api(daemon, 'HEAD', '/containers/stopped/archive?path=/tmp/tree/');
      assert.equal(dir.status, 200);
      const dirStat = pathStat(dir.headers['x-docker-container-path-stat']);
      assert.equal(dirStat.name, 'tree');
      assert.equal(dirStat.mode, 2 ** 31 + 0o755, 'os.ModeDir | 0755');
      const linkStat = pathStat((await api(daemon, 'HEAD', '/containers/stopped/archive?path=/tmp/tree/sub/link')).headers['x-docker-container-path-stat']);
      assert.equal(linkStat.mode, 2 ** 27 + 0o777, 'os.ModeSymlink | 0777');
      assert.equal(linkStat.linkTarget, '/tmp/tree/f');
      const missing = await api(daemon, 'HEAD', '/containers/stopped/archive?path=/nope');
      assert.equal(missing.status, 404);
      const noPath = await api(daemon, 'GET', '/containers/stopped/archive');
      assert.equal(noPath.status, 400);
    });

    test("Docker's errors: missing file, not a directory, dir over file, file over dir", async () => {
      const missing = await docker(['cp', 'stopped:/nope', work]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, 'Error response from daemon: Could not find the file /nope in container stopped\n');
      const notDir = await api(daemon, 'PUT', '/containers/stopped/archive?path=/tmp/tree/f', await tarOf([{ name: 'x' }]));
      assert.equal(notDir.status, 400);
      assert.equal(JSON.parse(notDir.body.toString()).message, 'extraction point is not a directory');
      const dirOverFile = await api(daemon, 'PUT', '/containers/stopped/archive?path=/tmp/tree&noOverwriteDirNonDir=1', await tarOf([{ name: 'f', type: 'directory' }]));
      assert.equal(dirOverFile.status, 400);
      assert.match(JSON.parse(dirOverFile.body.toString()).message, /cannot overwrite non-directory "\/f" with directory/);
      // A tar entry that fails for want of a file (a hard link to nothing) is the tar's fault, not
      // a missing extraction point.
      const deadLink = await api(daemon, 'PUT', '/containers/stopped/archive?path=/tmp/tree', await tarOf([{ name: 'hl', type: 'link', linkname: 'nothing' }]));
      assert.equal(deadLink.status, 400);
      assert.match(JSON.parse(deadLink.body.toString()).message, /no such file or directory/);
      const fileOverDir = await docker(['cp', join(work, 'tree', 'f'), 'stopped:/tmp/tree/sub']);
      assert.equal(fileOverDir.code, 0, 'a file copied onto a directory goes into it');
      const berthMissing = await berth(['cp', 'stopped:/nope', work]);
      assert.equal(berthMissing.code, 1);
      assert.equal(berthMissing.stderr, missing.stderr);
      const toStdinFile = await berth(['cp', '-', 'stopped:/tmp/tree/f'], '');
      assert.equal(toStdinFile.stderr, 'destination "stopped:/tmp/tree/f" must be a directory\n');
    });

    test('berth cp: both directions, stdin and stdout tars, -L and -a', async () => {
      const out = join(work, 'berth-out');
      await mkdir(out);
      assertOk(await berth(['cp', 'running:/tmp/in', out]));
      assert.equal(await readFile(join(out, 'in', 'msg'), 'utf8'), 'seen inside\n');
      const fromStdin = await berth(['cp', '-', 'running:/tmp'], await tarOf([{ name: 'viastdin', content: 'tar on stdin\n' }]));
      assert.equal(fromStdin.code, 0, fromStdin.stderr);
      const back = await berth(['cp', 'running:/tmp/viastdin', '-']);
      assert.deepEqual(listing(back.raw), ['-rw-r--r-- 0/0 13 viastdin']);
      // -L copies what a link leads to, under the link's name.
      assertOk(await berth(['cp', '-L', 'stopped:/tmp/tree/sub/link', join(out, 'followed')]));
      assert.equal(await readFile(join(out, 'followed'), 'utf8'), 'file content\n');
      assertOk(await berth(['cp', 'stopped:/tmp/tree/sub/link', join(out, 'kept')]));
      assert.equal((await lstat(join(out, 'kept'))).isSymbolicLink(), true);
      // -a gives the copied files the container's user; without a User the tar's owners stay.
      await docker(['create', '--name', 'withuser', '--user', 'nobody', 'busybox', 'sh', '-c', 'stat -c "%u:%g %n" /tmp/f /tmp/g']);
      assertOk(await berth(['cp', '-a', join(work, 'tree', 'f'), 'withuser:/tmp/f']));
      assertOk(await berth(['cp', join(work, 'tree', 'f'), 'withuser:/tmp/g']));
      assert.equal((await docker(['start', '-a', 'withuser'])).stdout, '65534:65534 /tmp/f\n1234:5678 /tmp/g\n');
    });

    test('no escape: links and .. resolve inside the container, for reads and writes', async () => {
      const host = await mkdtemp(join(tmpdir(), 'berth-cp-host-'));
      try {
        await writeFile(join(host, 'secret'), 'HOST SECRET\n');
        await docker(['create', '--name', 'escape', 'busybox', 'true']);
        const links = await tarOf([
          { name: 'abs', type: 'symlink', linkname: host },
          { name: 'rel', type: 'symlink', linkname: `../../../../../../..${host}` },
          { name: 'root', type: 'symlink', linkname: '/' },
        ]);
        assert.equal((await api(daemon, 'PUT', '/containers/escape/archive?path=/tmp', links)).status, 200);
        for (const path of ['/tmp/abs/secret', '/tmp/rel/secret', `/../../..${host}/secret`, `/tmp/root/..${host}/secret`]) {
          const read = await docker(['cp', `escape:${path}`, '-']);
          assert.equal(read.code, 1, `${path} must not be found`);
          assert.match(read.stderr, /Could not find the file/);
        }
        const write = await api(daemon, 'PUT', `/containers/escape/archive?path=${encodeURIComponent('/tmp/root/..' + host)}`, await tarOf([{ name: 'planted' }]));
        assert.equal(write.status, 404);
        // An entry of the tar cannot leave the destination either, by name or through its own link.
        const hostile = await tarOf([
          { name: '../../../../../../../..' + host + '/byname' },
          { name: 'out', type: 'symlink', linkname: host },
          { name: 'out/bylink' },
        ]);
        await api(daemon, 'PUT', '/containers/escape/archive?path=/tmp', hostile);
        assert.deepEqual(await readdir(host), ['secret']);
      } finally {
        await rm(host, { recursive: true, force: true });
      }
    });

    test('CVE-2018-15664: a container swapping a directory for a link to / never gets a copy out of or into the host', async () => {
      const host = await mkdtemp(join(tmpdir(), 'berth-cp-race-'));
      try {
        await writeFile(join(host, 'secret'), 'HOST SECRET\n');
        // /w flips between a real directory (holding <host>/secret) and a link to /; through
        // the link, <host>/secret is the container's own /<host>/secret.
        const script = [
          `mkdir -p /w${host} ${host} && echo in-dir > /w${host}/secret && echo container-root > ${host}/secret`,
          // Each state is held as long as the other (a usleep each), the moments between are short.
          'while true; do mv /w /w.d; ln -s / /w; usleep 2000; rm /w; mv /w.d /w; usleep 2000; done',
        ].join('; ');
        assertOk(await docker(['run', '-d', '--name', 'swapper', 'busybox', 'sh', '-c', script]));
        const seen = new Set<string>();
        const planted = await tarOf([{ name: 'planted', content: 'from the race\n' }]);
        // Copies until both sides of the swap have been read (the race really ran), at most a minute.
        for (const end = Date.now() + 60_000; seen.size < 2 && Date.now() < end; ) {
          // A path that changes under a tar already started cuts the stream: no answer then.
          const read = await api(daemon, 'GET', `/containers/swapper/archive?path=${encodeURIComponent(`/w${host}/secret`)}`).catch(() => undefined);
          assert.ok(read === undefined || [200, 404, 500].includes(read.status), `status ${read?.status}`);
          if (read?.status === 200) {
            const content = read.body.subarray(512, 512 + 64).toString('utf8').replace(/\0+$/, '');
            assert.notEqual(content, 'HOST SECRET\n', 'a copy read the host file');
            seen.add(content);
          }
          await api(daemon, 'PUT', `/containers/swapper/archive?path=${encodeURIComponent(`/w${host}`)}`, planted).catch(() => undefined);
        }
        assert.deepEqual(await readdir(host), ['secret'], 'a copy wrote into the host');
        // Both sides of the swap were read: the race really ran while the copies did.
        assert.deepEqual([...seen].sort(), ['container-root\n', 'in-dir\n']);
      } finally {
        await docker(['rm', '-f', 'swapper']);
        await rm(host, { recursive: true, force: true });
      }
    });

    test('CVE-2019-14271: no library of the container is loaded by the copy', async () => {
      // A library that, once loaded anywhere, leaves a mark in / of whoever loads it.
      const lib = join(work, 'evil.so');
      const source = join(work, 'evil.c');
      await writeFile(source, '#include <stdio.h>\n__attribute__((constructor)) static void mark(void) { FILE *f = fopen("/loaded-by-cp", "w"); if (f) fclose(f); }\n');
      execFileSync('gcc', ['-shared', '-fPIC', '-o', lib, source]);
      await docker(['create', '--name', 'libs', '--user', 'nobody', 'busybox', 'true']);
      const planted = pack();
      const data = await readFile(lib);
      for (const dir of ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64', 'lib', 'usr/lib']) {
        for (const name of ['libnss_files.so.2', 'libnss_compat.so.2', 'libgcc_s.so.1', 'libnss_dns.so.2']) planted.entry({ name: `${dir}/${name}`, mode: 0o755 }, data);
      }
      planted.entry({ name: 'etc/nsswitch.conf' }, 'passwd: files compat\ngroup: files compat\n');
      planted.finalize();
      const chunks: Buffer[] = [];
      for await (const chunk of planted) chunks.push(chunk as Buffer);
      assert.equal((await api(daemon, 'PUT', '/containers/libs/archive?path=/', Buffer.concat(chunks))).status, 200);
      assertOk(await docker(['cp', '-a', join(work, 'tree', 'f'), 'libs:/tmp/']));
      assertOk(await docker(['cp', 'libs:/etc', join(work, 'libs-etc')]));
      assertOk(await docker(['export', '-o', join(work, 'libs.tar'), 'libs']));
      const marked = await docker(['cp', 'libs:/loaded-by-cp', '-']);
      assert.equal(marked.code, 1, 'a library of the container ran in the copying process');
      await assert.rejects(stat('/loaded-by-cp'));
    });

    test('export: the whole filesystem as a tar, to stdout or -o, never to a terminal', async () => {
      const exported = await docker(['export', 'stopped']);
      assert.equal(exported.code, 0, exported.stderr);
      const names = listing(exported.raw).map((line) => line.split(' ').at(-1));
      assert.ok(names.includes('bin/busybox') && names.includes('tmp/tree/f') && names.includes('etc/passwd'));
      assert.ok(!names.some((name) => name === './' || name!.startsWith('/')), 'names are relative, without the root itself');
      const file = join(work, 'export.tar');
      assertOk(await berth(['export', '-o', file, 'running']));
      assert.ok(listing(await readFile(file)).some((line) => line.endsWith(' tmp/in/msg')));
      const onTerminal = await runOnPty(`node ${join(import.meta.dirname, '../../../bin/berth')} export running`, daemon.env);
      assert.match(onTerminal.output, /cowardly refusing to save to a terminal/);
      const events = await docker(['events', '--since', '0', '--until', String(Date.now() / 1000), '--filter', 'container=stopped', '--format', '{{.Action}}']);
      const actions = new Set(events.stdout.split('\n'));
      for (const action of ['archive-path', 'extract-to-dir', 'export']) assert.ok(actions.has(action), `${action} event`);
    });
  });
}
