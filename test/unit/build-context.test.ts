/**
 * The build context reader (a tar unpacked by the confined extractor, the Dockerfile found and
 * parsed, .dockerignore honoured as Docker's daemon does), hostile contexts, and the hashes of
 * COPY sources and step cache keys. Runs the extract helper, so it needs root, as the daemon.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, chown, copyFile, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { dockerfileEntryName, readBuildContext, sweepBuildRoots } from '../../src/engine/build/build-context.js';
import { stepCacheKey } from '../../src/engine/build/cache-key.js';
import { resolveCopySources } from '../../src/engine/build/copy-sources.js';
import { contentHash, hashList, pathHash } from '../../src/engine/build/file-hash.js';

const scratch = await mkdtemp(join(tmpdir(), 'berth-build-context-'));
after(() => rm(scratch, { recursive: true, force: true }));
const buildDir = join(scratch, 'build');
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/build');

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink'; body?: string; linkname?: string; mode?: number };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const tar = pack();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    tar.entry({ name: entry.name, type, linkname: entry.linkname, mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: 0, gid: 0 }, entry.body ?? '');
  }
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('a context tar: Dockerfile parsed, files unpacked, the build root removed by dispose', async () => {
  const tar = await tarOf([
    { name: 'Dockerfile', body: 'FROM busybox\nCOPY app /app\n' },
    { name: 'app', type: 'directory' },
    { name: 'app/run.sh', body: '#!/bin/sh\n', mode: 0o755 },
  ]);
  const context = await readBuildContext(Readable.from([tar]), { dir: buildDir });
  assert.equal(context.dockerfileName, 'Dockerfile');
  assert.equal(context.dockerfile.nodes.length, 2);
  assert.equal((await lstat(join(context.root, 'app/run.sh'))).mode & 0o777, 0o755);
  assert.equal((await lstat(context.root)).mode & 0o777, 0o700);
  await context.dispose();
  assert.deepEqual(await readdir(buildDir), []);
});

test('gzip, -f inside the context, the dockerfile fallback, a Dockerfile added by the client', async () => {
  const nested = await readBuildContext(Readable.from([gzipSync(await tarOf([{ name: 'ci/build.Dockerfile', body: 'FROM a\n' }]))]), {
    dir: buildDir,
    dockerfile: 'ci/build.Dockerfile',
  });
  assert.equal(nested.dockerfileName, 'ci/build.Dockerfile');
  await nested.dispose();
  const lower = await readBuildContext(Readable.from([await tarOf([{ name: 'dockerfile', body: 'FROM a\n' }])]), { dir: buildDir });
  assert.equal(lower.dockerfileName, 'dockerfile');
  await lower.dispose();
  const name = dockerfileEntryName();
  assert.match(name, /^\.dockerfile\.[0-9a-f]{20}$/);
  const stdin = await readBuildContext(Readable.from([await tarOf([{ name, body: 'FROM a\n' }])]), { dir: buildDir, dockerfile: name });
  assert.equal(stdin.dockerfileName, name);
  await stdin.dispose();
});

test('errors: no Dockerfile, an empty one, a parse error naming the file and line; nothing left behind', async () => {
  await assert.rejects(readBuildContext(Readable.from([await tarOf([{ name: 'x', body: '' }])]), { dir: buildDir }), {
    message: 'Cannot locate specified Dockerfile: Dockerfile',
  });
  await assert.rejects(readBuildContext(Readable.from([await tarOf([{ name: 'Dockerfile', body: '' }])]), { dir: buildDir }), {
    message: 'the Dockerfile (Dockerfile) cannot be empty',
  });
  await assert.rejects(readBuildContext(Readable.from([await tarOf([{ name: 'Dockerfile', body: 'FROM a\nRUN <<EOF\n' }])]), { dir: buildDir }), {
    message: 'failed to parse Dockerfile: dockerfile parse error on line 2: unterminated heredoc',
  });
  await assert.rejects(readBuildContext(Readable.from([Buffer.from('not a tar at all, not even close'.repeat(40))]), { dir: buildDir }), (err: Error) =>
    err.message.startsWith('unpacking the build context'),
  );
  assert.deepEqual(await readdir(buildDir), []);
});

test('.dockerignore excluding the Dockerfile and itself: both taken out of the context', async () => {
  const tar = await tarOf([
    { name: 'Dockerfile', body: 'FROM a\n' },
    { name: '.dockerignore', body: 'Dockerfile\n.dockerignore\n' },
    { name: 'kept', body: 'x' },
  ]);
  const context = await readBuildContext(Readable.from([tar]), { dir: buildDir });
  assert.deepEqual((await readdir(context.root)).sort(), ['kept']);
  await context.dispose();
});

test('a hostile context cannot write outside its build root', async () => {
  const outside = join(scratch, 'outside');
  await mkdir(outside, { recursive: true });
  const tar = await tarOf([
    { name: 'Dockerfile', body: 'FROM a\n' },
    { name: '../../escaped-dotdot', body: 'x' },
    { name: '/abs-escaped', body: 'x' },
    { name: 'out', type: 'symlink', linkname: outside },
    { name: 'up', type: 'symlink', linkname: '../../..' },
  ]);
  const context = await readBuildContext(Readable.from([tar]), { dir: buildDir });
  assert.deepEqual((await readdir(context.root)).sort(), ['Dockerfile', 'abs-escaped', 'escaped-dotdot', 'out', 'up']);
  // COPY resolves links inside the context too: `out` names the context's own (missing) path.
  await assert.rejects(resolveCopySources(context.root, ['out/secret'], { command: 'COPY', dest: '/x', fromContext: true }), {
    message: 'COPY failed: file not found in build context or excluded by .dockerignore: stat out/secret: file does not exist',
  });
  const up = await resolveCopySources(context.root, ['up/Dockerfile'], { command: 'COPY', dest: '/x', fromContext: true });
  assert.deepEqual(up.sources.map((source) => source.path), ['Dockerfile']);
  await context.dispose();

  // Entries written through links: refused (as Docker's extractor does) or kept inside; never outside.
  for (const [link, target] of [['out', outside], ['up', '../../..']]) {
    const through = await tarOf([
      { name: 'Dockerfile', body: 'FROM a\n' },
      { name: link, type: 'symlink', linkname: target },
      { name: `${link}/escaped-through-link`, body: 'x' },
    ]);
    const result = await readBuildContext(Readable.from([through]), { dir: buildDir }).then(
      (made) => made.dispose(),
      (err: Error) => assert.match(err.message, /^unpacking the build context/),
    );
    assert.equal(result, undefined);
  }
  assert.deepEqual(await readdir(outside), []);
  for (const dir of [scratch, '/', '/work', '/work/wt']) {
    for (const name of ['escaped-dotdot', 'abs-escaped', 'escaped-through-link']) await assert.rejects(lstat(join(dir, name)), { code: 'ENOENT' });
  }
  assert.deepEqual(await readdir(buildDir), []);
});

test("file hashes are Docker's tarsum v1: header fields in order, then the content", async () => {
  const root = await mkdtemp(join(scratch, 'hash-'));
  await writeFile(join(root, 'a.txt'), 'hello\n');
  await chmod(join(root, 'a.txt'), 0o640);
  await chown(join(root, 'a.txt'), 12, 34);
  const expected = createHash('sha256')
    .update('namea.txtmode33184uid12gid34size6typeflag0linknameunamegnamedevmajor0devminor0')
    .update('hello\n')
    .digest('hex');
  assert.equal(await pathHash(root, 'a.txt'), `file:${expected}`);
  await symlink('a.txt', join(root, 'link'));
  const link = createHash('sha256').update('namelinkmode41471uid0gid0size0typeflag2linknamea.txtunamegnamedevmajor0devminor0').digest('hex');
  assert.equal(await pathHash(root, 'link'), `file:${link}`);

  await mkdir(join(root, 'dir/sub'), { recursive: true });
  await writeFile(join(root, 'dir/sub/f'), 'f');
  const dirHash = await pathHash(root, 'dir');
  assert.match(dirHash, /^dir:[0-9a-f]{64}$/);
  await writeFile(join(root, 'dir/sub/f'), 'g');
  assert.notEqual(await pathHash(root, 'dir'), dirHash, 'content changes the directory hash');
  assert.equal(contentHash('EOF', 'x\n'), contentHash('EOF', 'x\n'));

  // The real thing: Docker 20.10's classic builder recorded `ADD file:10ede712… in / ` for this
  // caps.tar (0644, root) in its context (/work/shared/fixtures/image-archives, fixture/caps).
  await copyFile(join(FIXTURES, 'caps.tar'), join(root, 'caps.tar'));
  await chmod(join(root, 'caps.tar'), 0o644);
  assert.equal(await pathHash(root, 'caps.tar'), 'file:10ede71284769c9bb8e6f4237dd2d015ae50e4862965a7bb9bc36c61e6a95205');
  assert.equal(hashList('multi', ['a', 'b']), `multi:${createHash('sha256').update('a,b').digest('hex')}`);
});

test('COPY sources: wildcards, several sources need a directory destination, links resolved inside the root', async () => {
  const root = await mkdtemp(join(scratch, 'sources-'));
  await mkdir(join(root, 'src'));
  await writeFile(join(root, 'src/a.go'), 'a');
  await writeFile(join(root, 'src/b.go'), 'b');
  await writeFile(join(root, 'src/c.txt'), 'c');
  await symlink('/src/a.go', join(root, 'abs-link'));
  const wild = await resolveCopySources(root, ['src/*.go'], { command: 'COPY', dest: '/dst/', fromContext: true });
  assert.deepEqual(wild.sources.map((s) => s.path), ['src/a.go', 'src/b.go']);
  assert.match(wild.hash, /^multi:/);
  await assert.rejects(resolveCopySources(root, ['src/*.go'], { command: 'COPY', dest: '/dst', fromContext: true }), {
    message: 'When using COPY with more than one source file, the destination must be a directory and end with a /',
  });
  const link = await resolveCopySources(root, ['/abs-link'], { command: 'ADD', dest: '/x', fromContext: true });
  assert.deepEqual(link.sources.map((s) => s.path), ['src/a.go']);
  assert.equal(link.hash, await pathHash(root, 'src/a.go'));
  await assert.rejects(resolveCopySources(root, ['src/*.none'], { command: 'COPY', dest: '/d/', fromContext: true }), {
    message: 'COPY failed: no source files were specified',
  });
  const all = await resolveCopySources(root, ['.'], { command: 'COPY', dest: '/app', fromContext: true });
  assert.match(all.hash, /^dir:/);
});

test('step cache keys: same parent and probe give the same key; any change gives another', () => {
  const probe = { Env: ['A=1'], Cmd: ['/bin/sh', '-c', '#(nop) COPY file:abc in / '], Labels: { b: '1', a: '2' } };
  const key = stepCacheKey('sha256:parent', probe);
  assert.match(key, /^sha256:[0-9a-f]{64}$/);
  assert.equal(stepCacheKey('sha256:parent', { Labels: { a: '2', b: '1' }, Cmd: [...probe.Cmd], Env: ['A=1'] }), key, 'key order does not matter');
  assert.notEqual(stepCacheKey('sha256:other', probe), key);
  assert.notEqual(stepCacheKey('sha256:parent', { ...probe, Cmd: ['/bin/sh', '-c', '#(nop) COPY file:abd in / '] }), key);
  assert.notEqual(stepCacheKey('sha256:parent', { ...probe, Env: ['A=2'] }), key);
});

test('sweeping build roots a killed daemon left', async () => {
  const dir = join(scratch, 'sweep');
  await mkdir(join(dir, 'context-abc'), { recursive: true });
  await writeFile(join(dir, 'context-abc/file'), 'x');
  await mkdir(join(dir, 'other'));
  assert.deepEqual(await sweepBuildRoots(dir), ['context-abc']);
  assert.deepEqual(await readdir(dir), ['other']);
  assert.deepEqual(await sweepBuildRoots(join(scratch, 'missing')), []);
});
