import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBusyboxDaemon, type TestDaemon } from '../helpers/berthd.js';
import { DOCKER } from '../helpers/docker-cli.js';
import { mountsUnder } from '../helpers/http.js';

/** `docker build` with the classic builder (DOCKER_BUILDKIT=0), as the docker CLI 28 sends it. */
function dockerBuild(daemon: TestDaemon, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(DOCKER, ['build', ...args], { env: { ...daemon.env, DOCKER_BUILDKIT: '0' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

async function context(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-build-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** Starts `docker build` and resolves once a RUN step's container runs; the caller ends it. */
async function buildUntilRunning(daemon: TestDaemon, dir: string) {
  const child = spawn(DOCKER, ['build', dir], { env: { ...daemon.env, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (let i = 0; i < 600 && !/\nsleeping\n/.test(output); i++) await new Promise((r) => setTimeout(r, 25));
  assert.match(output, /Running in [0-9a-f]{12}\n[\s\S]*sleeping/);
  return child;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const stepLines = (stdout: string) => stdout.split('\n').filter((line) => line.startsWith('Step ') || line.startsWith(' ---> ') || line.startsWith('Successfully'));

describe('docker build (classic builder) against berthd', { timeout: 240_000 }, () => {
  let daemon: TestDaemon;
  const dirs: string[] = [];
  useBusyboxDaemon((d) => (daemon = d));
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  let dir: string;
  before(async () => {
    dir = await context({
      Dockerfile: 'FROM busybox\nRUN echo made > /made && echo step output\nCOPY hello.txt /srv/\nCMD ["cat", "/srv/hello.txt", "/made"]\n',
      'hello.txt': 'hello from the context\n',
    });
    dirs.push(dir);
  });

  test('FROM / RUN / COPY / CMD: the steps stream, the image runs, history reads like Docker', async () => {
    const built = await dockerBuild(daemon, ['--no-cache', '-t', 'built:one', '-t', 'built:two', dir]);
    assert.equal(built.code, 0, built.stderr + built.stdout);
    const lines = stepLines(built.stdout);
    assert.equal(lines[0], 'Step 1/4 : FROM busybox');
    assert.match(lines[1]!, /^ ---> [0-9a-f]{12}$/);
    assert.equal(lines[2], 'Step 2/4 : RUN echo made > /made && echo step output');
    assert.match(lines[3]!, /^ ---> Running in [0-9a-f]{12}$/);
    assert.match(built.stdout, /\nstep output\n/);
    assert.match(lines[4]!, /^ ---> Removed intermediate container [0-9a-f]{12}$/);
    assert.match(lines[5]!, /^ ---> [0-9a-f]{12}$/);
    assert.equal(lines[6], 'Step 3/4 : COPY hello.txt /srv/');
    assert.match(lines[7]!, /^ ---> [0-9a-f]{12}$/);
    assert.equal(lines[8], 'Step 4/4 : CMD ["cat", "/srv/hello.txt", "/made"]');
    const id = lines[9]!.slice(6);
    assert.deepEqual(lines.slice(10), [`Successfully built ${id}`, 'Successfully tagged built:one', 'Successfully tagged built:two']);

    const run = await daemon.berth(['run', '--rm', '--network', 'none', 'built:one']);
    assert.equal(run.stdout, 'hello from the context\nmade\n');

    const history = await daemon.berth(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'built:two']);
    const rows = history.stdout.trim().split('\n');
    assert.equal(rows[0], '/bin/sh -c #(nop)  CMD ["cat" "/srv/hello.txt" "/made"]|0B');
    assert.match(rows[1]!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/srv\/ \|[\d.]+k?B$/);
    assert.match(rows[2]!, /^\/bin\/sh -c echo made > \/made && echo step output\|[\d.]+k?B$/);
    // No build container is left.
    assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
  });

  test('a rebuild takes every step from the cache, also after a daemon restart; a changed file re-runs from its COPY', async () => {
    const first = await dockerBuild(daemon, ['-t', 'cached', dir]);
    assert.equal(first.code, 0, first.stderr);
    await daemon.restart();
    const again = await dockerBuild(daemon, ['-t', 'cached', dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.split('\n').filter((line) => line === ' ---> Using cache').length, 3, again.stdout);
    assert.doesNotMatch(again.stdout, /Running in/);
    const firstId = first.stdout.match(/Successfully built (\w+)/)![1];
    assert.equal(again.stdout.match(/Successfully built (\w+)/)![1], firstId);

    // The unchanged context's root was kept, with the body it was unpacked from, and used
    // again: still one root, the same.
    const roots = async () => (await readdir(join(daemon.dataRoot, 'builder', 'contexts'))).sort();
    const kept = await roots();
    assert.deepEqual(kept, [kept[0], `${kept[0]}.tar`]);
    assert.equal((await dockerBuild(daemon, ['-t', 'cached', dir])).code, 0);
    assert.deepEqual(await roots(), kept);

    await writeFile(join(dir, 'hello.txt'), 'changed\n');
    const changed = await dockerBuild(daemon, ['-t', 'cached', dir]);
    const replaced = await roots();
    assert.deepEqual(replaced, [replaced[0], `${replaced[0]}.tar`]);
    assert.notDeepEqual(replaced, kept);
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.stdout.split('\n').filter((line) => line === ' ---> Using cache').length, 1, changed.stdout);
    assert.equal((await daemon.berth(['run', '--rm', '--network', 'none', 'cached'])).stdout, 'changed\nmade\n');
    await writeFile(join(dir, 'hello.txt'), 'hello from the context\n');
  });

  test('a failing RUN names the command and exit code, exits non-zero, and leaves no container, mount or image', async () => {
    const failing = await context({ Dockerfile: 'FROM busybox\nRUN echo before > /x && exit 7\nCMD ["sh"]\n' });
    dirs.push(failing);
    const imagesBefore = (await daemon.berth(['images', '-aq', '--no-trunc'])).stdout;
    const mountsBefore = await readdir(join(daemon.dataRoot, 'builder', 'contexts')).catch(() => []);
    const result = await dockerBuild(daemon, ['-t', 'never', failing]);
    // The docker CLI exits with the code errorDetail carries: the RUN's.
    assert.equal(result.code, 7);
    assert.match(result.stderr, /The command '\/bin\/sh -c echo before > \/x && exit 7' returned a non-zero code: 7/);
    assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
    assert.equal((await daemon.berth(['images', '-aq', '--no-trunc'])).stdout, imagesBefore);
    assert.deepEqual(await readdir(join(daemon.dataRoot, 'builder', 'contexts')), mountsBefore);
  });

  test('RUN layers keep file names that are not UTF-8 as their bytes, a deletion’s whiteout included', async () => {
    const raw = await context({ Dockerfile: `FROM busybox\nRUN touch "$(printf '/a\\377b')" && mkdir "$(printf '/d\\376')"\nRUN rm -r "$(printf '/d\\376')"\n` });
    dirs.push(raw);
    const built = await dockerBuild(daemon, ['-t', 'rawnames', raw]);
    assert.equal(built.code, 0, built.stderr);
    // /a* finds the file by its bytes; /d? is left unmatched (as written) once the folder is deleted.
    const seen = await execFileText(daemon, ['run', '--rm', '--network', 'none', 'rawnames', 'sh', '-c', "printf '%s\\n' /a* /d? | od -An -tx1"]);
    assert.equal(seen.replace(/\s+/g, ' ').trim(), '2f 61 ff 62 0a 2f 64 3f 0a');
    await execFileText(daemon, ['rmi', 'rawnames']);
  });

  test('FROM an image that is not here: a clear error, nothing made', async () => {
    // Pulled from a registry that is down (on loopback: tests reach nothing else).
    const absent = await context({ Dockerfile: 'FROM 127.0.0.1:1/nosuchimage:1\nRUN true\n' });
    dirs.push(absent);
    const result = await dockerBuild(daemon, [absent]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /connect ECONNREFUSED 127\.0\.0\.1:1/);
  });

  test('a client that goes away mid-RUN cancels the build: the step container is killed and removed', async () => {
    const slow = await context({ Dockerfile: 'FROM busybox\nRUN echo sleeping && sleep 60\n' });
    dirs.push(slow);
    const rootsBefore = await readdir(join(daemon.dataRoot, 'builder', 'contexts'));
    const client = await buildUntilRunning(daemon, slow);
    client.kill('SIGKILL');
    await once(client, 'exit');
    await until(async () => (await daemon.berth(['ps', '-aq'])).stdout === '', 'the step container to go');
    assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
    // The root a successful build kept for the next one stays; the cancelled build's went.
    await until(async () => (await readdir(join(daemon.dataRoot, 'builder', 'contexts'))).join() === rootsBefore.join(), 'the build root to go');
  });

  test('kill -9 of berthd mid-build: the next start removes the step container and the build root', async () => {
    const slow = await context({ Dockerfile: 'FROM busybox\nRUN echo sleeping && sleep 60\n' });
    dirs.push(slow);
    const client = await buildUntilRunning(daemon, slow);
    daemon.process.kill('SIGKILL');
    await once(client, 'exit');
    await daemon.restart();
    assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
    assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
    assert.deepEqual(await readdir(join(daemon.dataRoot, 'builder', 'contexts')), []);
  });

  test('berth build: .dockerignore, -f -, -q, --iidfile, --build-arg, --label, --target, several -t', async () => {
    const dir = await context({
      '.dockerignore': '*.log\n!keep.log\n',
      'a.txt': 'a\n',
      'drop.log': 'dropped\n',
      'keep.log': 'kept\n',
    });
    dirs.push(dir);
    const dockerfile = [
      'FROM busybox AS base',
      'ARG GREETING=hello',
      'RUN echo "$GREETING" > /greeting',
      'FROM base AS final',
      'COPY . /ctx/',
      'CMD ["sh", "-c", "cat /greeting; ls /ctx"]',
      'FROM final AS unused',
      'RUN exit 1',
    ].join('\n');
    const iidfile = join(dir, '..', `${dir.split('/').pop()}.iid`);
    const quiet = await daemon.berth(['build', '-q', '-f', '-', '--target', 'final', '--build-arg', 'GREETING=bonjour', '--label', 'made.by=test', '-t', 'q:1', '-t', 'q:2', '--iidfile', iidfile, dir], {
      input: dockerfile,
    });
    assert.match(quiet.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const id = quiet.stdout.trim();
    assert.equal(await readFile(iidfile, 'utf8'), id);
    await rm(iidfile);
    assert.equal((await daemon.berth(['run', '--rm', '--network', 'none', 'q:2'])).stdout, 'bonjour\na.txt\nkeep.log\n');
    const [inspect] = JSON.parse((await daemon.berth(['image', 'inspect', 'q:1'])).stdout);
    assert.equal(inspect.Id, id);
    assert.equal(inspect.Config.Labels['made.by'], 'test');
  });

  test('multi-stage: COPY --from a stage by name and by index, and from an image; the stage layers are unmounted after', async () => {
    const dir = await context({
      Dockerfile: [
        'FROM busybox AS maker',
        'RUN mkdir -p /out/sub && echo one > /out/one && echo two > /out/sub/two && ln -s one /out/link',
        'FROM busybox',
        'COPY --from=maker /out /copied/',
        'COPY --from=0 /out/one /single',
        'COPY --from=busybox /bin/busybox /bb',
        'CMD ["sh", "-c", "cat /copied/one /copied/sub/two /single; readlink /copied/link; test -x /bb && echo bb"]',
      ].join('\n'),
    });
    dirs.push(dir);
    const built = await dockerBuild(daemon, ['-t', 'staged', dir]);
    assert.equal(built.code, 0, built.stderr + built.stdout);
    assert.equal((await daemon.berth(['run', '--rm', '--network', 'none', 'staged'])).stdout, 'one\ntwo\none\none\nbb\n');
    assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
  });

  test('ADD unpacks a local tar.gz, COPY <<EOF writes a heredoc, --chown by ids and by names, --chmod, WORKDIR; an unknown user is refused', async () => {
    const dir = await context({ 'plain.txt': 'plain\n' });
    dirs.push(dir);
    await writeFile(join(dir, 'inner.txt'), 'inside the archive\n');
    await new Promise<void>((resolve, reject) =>
      execFile('tar', ['--owner=7', '--group=8', '-czf', join(dir, 'files.tar.gz'), '-C', dir, 'inner.txt'], (err) => (err ? reject(err) : resolve())),
    );
    await writeFile(
      join(dir, 'Dockerfile'),
      [
        'FROM busybox',
        'WORKDIR /work/here',
        'ADD files.tar.gz /unpacked/',
        'COPY --chown=5:6 --chmod=600 plain.txt owned.txt',
        'COPY --chown=nobody:nogroup plain.txt /named.txt',
        'COPY <<EOF /etc/greeting',
        'hello heredoc',
        'EOF',
        'CMD ["sh", "-c", "pwd; cat /unpacked/inner.txt /etc/greeting; stat -c \'%u:%g %a\' /unpacked/inner.txt owned.txt /named.txt"]',
      ].join('\n'),
    );
    const built = await dockerBuild(daemon, ['-t', 'added', dir]);
    assert.equal(built.code, 0, built.stderr + built.stdout);
    assert.equal(
      (await daemon.berth(['run', '--rm', '--network', 'none', 'added'])).stdout,
      '/work/here\ninside the archive\nhello heredoc\n7:8 644\n5:6 600\n65534:65534 644\n',
    );
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY --chown=nosuchuser plain.txt /x\n');
    const refused = await dockerBuild(daemon, [dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /can't find uid for user nosuchuser: no such user: nosuchuser/);
  });

  test('RUN heredocs: a body run by the shell, and a #! body run as a file from /dev/pipes, outside the layer', async () => {
    const dir = await context({});
    dirs.push(dir);
    await writeFile(
      join(dir, 'Dockerfile'),
      [
        'FROM busybox',
        'RUN <<EOF',
        'echo one > /one',
        'echo "shell $0" >> /one',
        'EOF',
        'RUN <<-EOT',
        '\t#!/bin/sh',
        '\techo "script $0 $(stat -c %a "$0")" > /two',
        '\techo changed > "$0" 2>/dev/null || echo read-only >> /two',
        '\tEOT',
        'CMD cat /one /two',
      ].join('\n'),
    );
    const built = await dockerBuild(daemon, ['-t', 'heredocs', dir]);
    assert.equal(built.code, 0, built.stderr + built.stdout);
    assert.equal((await daemon.berth(['run', '--rm', '--network', 'none', 'heredocs'])).stdout, 'one\nshell /bin/sh\nscript /dev/pipes/EOT 755\nread-only\n');
    // History names the script by its path, as BuildKit's does; the cache tells bodies apart.
    const history = await daemon.berth(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'heredocs']);
    assert.match(history.stdout, /^\/bin\/sh -c \/dev\/pipes\/EOT$/m);
    const again = await dockerBuild(daemon, ['-t', 'heredocs', dir]);
    assert.equal(again.stdout.match(/Using cache/g)?.length, 3, again.stdout);
    const dockerfile = await readFile(join(dir, 'Dockerfile'), 'utf8');
    await writeFile(join(dir, 'Dockerfile'), dockerfile.replace('script $0', 'changed $0'));
    const changed = await dockerBuild(daemon, ['-t', 'heredocs', dir]);
    assert.equal(changed.stdout.match(/Using cache/g)?.length, 1, changed.stdout);
    assert.match((await daemon.berth(['run', '--rm', '--network', 'none', 'heredocs'])).stdout, /^changed \/dev\/pipes\/EOT 755$/m);
    // The image's own files (the container's mounts left out) hold no trace of the script.
    await daemon.berth(['create', '--name', 'heredocs-files', 'heredocs']);
    await daemon.berth(['export', '-o', join(dir, 'files.tar'), 'heredocs-files']);
    await daemon.berth(['rm', 'heredocs-files']);
    const listing = await new Promise<string>((resolve, reject) =>
      execFile('tar', ['-tf', join(dir, 'files.tar')], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    assert.match(listing, /^one$/m);
    assert.doesNotMatch(listing, /pipes/);
  });

  test('ADD of a URL (mode 0600, Last-Modified as mtime, never unpacked; cached while unchanged) and of bzip2 and xz archives; a failed GET is reported', async () => {
    const served = new Map<string, { body: Buffer; headers: Record<string, string> }>();
    const server = createServer((req, res) => {
      const file = served.get(req.url ?? '');
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such file here');
        return;
      }
      res.writeHead(200, file.headers).end(file.body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const dir = await context({});
      dirs.push(dir);
      await writeFile(join(dir, 'inner.txt'), 'inside\n');
      for (const [flag, name] of [['-cjf', 'files.tar.bz2'], ['-cJf', 'files.tar.xz']]) {
        await new Promise<void>((resolve, reject) => execFile('tar', [flag!, join(dir, name!), '-C', dir, 'inner.txt'], (err) => (err ? reject(err) : resolve())));
      }
      const tarGz = await readFile(join(dir, 'files.tar.bz2'));
      served.set('/dl/hello.txt', { body: Buffer.from('hello from a url\n'), headers: { 'last-modified': 'Tue, 01 Jul 2025 10:00:00 GMT' } });
      served.set('/dl/archive.tar.bz2', { body: tarGz, headers: {} });
      served.set('/by-header/', { body: Buffer.from('named\n'), headers: { 'content-disposition': 'attachment; filename="given.txt"' } });
      await writeFile(
        join(dir, 'Dockerfile'),
        [
          'FROM busybox',
          `ADD ${base}/dl/hello.txt /dl/`,
          `ADD ${base}/dl/hello.txt /renamed.txt`,
          `ADD ${base}/dl/archive.tar.bz2 ${base}/by-header/ /remote/`,
          'ADD files.tar.bz2 /bz2/',
          'ADD files.tar.xz /xz/',
          'CMD ["sh", "-c", "stat -c \'%a %Y\' /dl/hello.txt; cat /dl/hello.txt /renamed.txt /remote/given.txt /bz2/inner.txt /xz/inner.txt; ls /remote"]',
        ].join('\n'),
      );
      const built = await dockerBuild(daemon, ['-t', 'fetched', dir]);
      assert.equal(built.code, 0, built.stderr + built.stdout);
      assert.equal(
        (await daemon.berth(['run', '--rm', '--network', 'none', 'fetched'])).stdout,
        `600 ${Date.parse('2025-07-01T10:00:00Z') / 1000}\nhello from a url\nhello from a url\nnamed\ninside\ninside\narchive.tar.bz2\ngiven.txt\n`,
      );
      const again = await dockerBuild(daemon, ['-t', 'fetched', dir]);
      assert.equal(again.stdout.match(/Using cache/g)?.length, 6, again.stdout);
      served.set('/dl/hello.txt', { body: Buffer.from('changed\n'), headers: {} });
      const changed = await dockerBuild(daemon, [dir]);
      assert.equal(changed.stdout.match(/Using cache/g)?.length ?? 0, 0, 'a changed download runs its step and the ones after');
      await writeFile(join(dir, 'Dockerfile'), `FROM busybox\nADD ${base}/missing.txt /x\n`);
      const missing = await dockerBuild(daemon, [dir]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /failed to GET http:\/\/127\.0\.0\.1:\d+\/missing\.txt with status 404 Not Found: no such file here/);
    } finally {
      server.close();
    }
  });

  test('resources and hosts of the RUN steps: --memory, --memory-swap, --cpu-shares, --cpuset-cpus, --cpuset-mems, --cgroup-parent, --shm-size, --ulimit, --add-host (docker CLI and berth)', async () => {
    const parent = `${daemon.cgroupParent}/build-steps`;
    const dir = await context({
      Dockerfile: [
        'FROM busybox',
        'RUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpuset/cpuset.cpus; ulimit -n; df -k /dev/shm | tail -1 | awk \'{print $2}\'; grep buildhost /etc/hosts; cat /sys/fs/cgroup/cpuset/cpuset.mems; grep :memory: /proc/self/cgroup',
      ].join('\n'),
    });
    dirs.push(dir);
    const flags = ['--no-cache', '--memory', '64m', '--memory-swap', '128m', '--cpu-shares', '512', '--cpuset-cpus', '0', '--shm-size', '32m', '--ulimit', 'nofile=1024:2048', '--add-host', 'buildhost:10.9.8.7', '--cpuset-mems', '0', '--cgroup-parent', parent];
    const expected = new RegExp(`^67108864\n512\n0\n1024\n32768\n10\\.9\\.8\\.7\\s+buildhost\n0\n\\d+:memory:${parent}/[0-9a-f]{64}$`, 'm');
    const built = await dockerBuild(daemon, [...flags, dir]);
    assert.equal(built.code, 0, built.stderr + built.stdout);
    assert.match(built.stdout, expected);
    const berth = await daemon.berth(['build', '--platform', 'linux/amd64', ...flags, dir]);
    assert.match(berth.stdout, expected);
    const refused = await dockerBuild(daemon, ['--no-cache', '--cpuset-cpus', '99', dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Requested CPUs are not available - requested 99/);
    const otherPlatform = await dockerBuild(daemon, ['--platform', 'linux/arm64', dir]);
    assert.equal(otherPlatform.code, 1);
    assert.match(otherPlatform.stderr, /platform linux\/arm64 is not supported: this host runs linux\/amd64 images only/);
  });

  test('docker builder prune removes the cache and the untagged images it held; a rebuild then runs every step', async () => {
    const dir = await context({ Dockerfile: 'FROM busybox\nRUN echo prune-me > /p\nENV P=1\n' });
    dirs.push(dir);
    const listed = async () => (await daemon.berth(['images', '-aq'])).stdout.split('\n').filter(Boolean);
    const built = await dockerBuild(daemon, [dir]);
    assert.equal(built.code, 0);
    // The RUN's image and the ENV's (the final one), both untagged.
    const made = [...built.stdout.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1]!).slice(1);
    assert.equal(made.length, 2);
    for (const id of made) assert.ok((await listed()).includes(id));
    // berth's own CLI: a cache within --keep-storage stays whole.
    const kept = await daemon.berth(['builder', 'prune', '-f', '--keep-storage', '1g']);
    assert.equal(kept.stdout, 'Total reclaimed space: 0B\n');
    for (const id of made) assert.ok((await listed()).includes(id));
    // A cache over the limit loses steps, last step first, until it fits: the ENV's (no layer of
    // its own) and then the RUN's, whose layer is what takes the space.
    const cut = await daemon.berth(['builder', 'prune', '-f', '--all', '--keep-storage', '1']);
    assert.match(cut.stdout, /^Deleted build cache objects:\n/);
    for (const id of made) assert.ok(!(await listed()).includes(id), `${id} is still there`);
    const rebuilt = await dockerBuild(daemon, [dir]);
    assert.equal(rebuilt.code, 0);
    made.splice(0, made.length, ...[...rebuilt.stdout.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1]!).slice(1));
    const pruned = await execFileText(daemon, ['builder', 'prune', '-f', '--filter', 'until=1h']);
    assert.match(pruned, /Total:\s+0B|Total reclaimed space:\s+0B/); // made just now: `until=1h` keeps it
    for (const id of made) assert.ok((await listed()).includes(id));
    const all = await execFileText(daemon, ['builder', 'prune', '-f']);
    assert.match(all, /Deleted build cache objects:/);
    for (const id of made) assert.ok(!(await listed()).includes(id), `${id} is still there`);
    assert.ok((await listed()).length > 0, 'tagged images stay');
    const again = await dockerBuild(daemon, [dir]);
    assert.doesNotMatch(again.stdout, /Using cache/);
  });
});

function execFileText(daemon: TestDaemon, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(DOCKER, args, { env: daemon.env }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}
