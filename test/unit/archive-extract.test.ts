import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, existsSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { appendFile, lstat, mkdir, open, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decompress, extractTar } from '../../src/archive/index.js';
import { base64XattrsAsBinary, XATTR_BASE64_PAX_PREFIX } from '../../src/archive/pax-xattrs.js';
import { TarRewriter } from '../../src/archive/tar-rewriter.js';
import { isKind } from '../../src/common/errors.js';
import { lgetxattr } from '../../src/native/index.js';
import { buildTar, streamOf, tempDir, type TarEntry } from './archive-fixtures.js';

/** An empty layer folder `dest` inside a parent folder in which nothing else may appear. */
async function sandbox(t: { after(fn: () => Promise<void>): void }): Promise<{ parent: string; dest: string }> {
  const parent = await tempDir(t, 'archive');
  const dest = join(parent, 'dest');
  await mkdir(dest);
  return { parent, dest };
}

async function extract(dest: string, entries: TarEntry[], whiteouts: 'overlay' | 'delete' = 'overlay') {
  return extractTar(streamOf(await buildTar(entries)), dest, { whiteouts });
}

test('writes files, directories, links, devices and fifos with their metadata', async (t) => {
  const { dest } = await sandbox(t);
  const mtime = new Date('2020-01-02T03:04:05Z');
  const tar = await buildTar(
    [
      { name: 'bin/', type: 'directory', mode: 0o711, mtime },
      { name: 'bin/tool', content: '#!/bin/sh\n', mode: 0o4755, uid: 1000, gid: 50, mtime, pax: { 'SCHILY.xattr.user.note': 'hi' } },
      { name: 'bin/alias', type: 'symlink', linkname: 'tool' },
      { name: 'bin/hard', type: 'link', linkname: 'bin/tool' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0 },
      { name: 'run/pipe', type: 'fifo' },
    ],
    { gzip: true },
  );
  await extractTar(decompress(streamOf(tar)), dest, { whiteouts: 'overlay' });
  const tool = await lstat(join(dest, 'bin/tool'));
  assert.deepEqual([tool.uid, tool.gid, tool.mode & 0o7777, tool.mtime.getTime()], [1000, 50, 0o4755, mtime.getTime()]);
  assert.equal(lgetxattr(join(dest, 'bin/tool'), 'user.note')?.toString(), 'hi');
  assert.equal((await stat(join(dest, 'bin'))).mtime.getTime(), mtime.getTime());
  assert.equal((await stat(join(dest, 'bin'))).mode & 0o777, 0o711);
  assert.equal(await readlink(join(dest, 'bin/alias')), 'tool');
  assert.equal((await lstat(join(dest, 'bin/hard'))).ino, tool.ino);
  const devNull = await lstat(join(dest, 'dev/null'));
  assert.ok(devNull.isCharacterDevice());
  assert.equal(devNull.rdev, (1 << 8) | 3);
  assert.ok((await lstat(join(dest, 'dev/loop0'))).isBlockDevice());
  assert.ok((await lstat(join(dest, 'run/pipe'))).isFIFO());
});

test('reports the uncompressed tar size for plain and gzipped input', async (t) => {
  const { dest } = await sandbox(t);
  const entries = [{ name: 'a', content: 'x'.repeat(3000) }];
  const plain = await buildTar(entries);
  assert.equal((await extractTar(streamOf(plain), dest, { whiteouts: 'overlay' })).size, plain.length);
  const gzipped = await buildTar(entries, { gzip: true });
  assert.equal((await extractTar(decompress(streamOf(gzipped)), dest, { whiteouts: 'overlay' })).size, plain.length);
});

test('keeps absolute names and absolute symlinks inside the destination', async (t) => {
  const { parent, dest } = await sandbox(t);
  await extract(dest, [
    { name: '/absolute', content: 'a' },
    { name: 'root', type: 'symlink', linkname: '/' },
    { name: 'root/tmp/through-absolute-link', content: 'd' },
    { name: 'passwd', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'passwd', content: 'replaced, not written through' },
  ]);
  assert.deepEqual(await readdir(parent), ['dest']);
  assert.equal(await readFile(join(dest, 'absolute'), 'utf8'), 'a');
  assert.equal(await readFile(join(dest, 'tmp/through-absolute-link'), 'utf8'), 'd');
  assert.ok((await lstat(join(dest, 'passwd'))).isFile());
  assert.notEqual(await readFile('/etc/passwd', 'utf8'), 'replaced, not written through');
});

test('refuses names, hard links and relative symlinks that climb out with .., as Docker does', async (t) => {
  const before = await stat('/etc/passwd');
  const cases: Array<[TarEntry[], RegExp]> = [
    [[{ name: '../../../dotdot', content: 'b' }], /"\.\.\/\.\.\/\.\.\/dotdot" is outside of the layer/],
    [[{ name: 'a/../../dotdot', content: 'b' }], /is outside of the layer/],
    [[{ name: 'up', type: 'symlink', linkname: '../../..' }], /invalid symlink "up" -> "\.\.\/\.\.\/\.\."/],
    [[{ name: 'stolen', type: 'link', linkname: '../../../../etc/passwd' }], /invalid hardlink "stolen"/],
  ];
  for (const [entries, message] of cases) {
    const { parent, dest } = await sandbox(t);
    await assert.rejects(extract(dest, entries), (err) => isKind(err, 'invalid-parameter') && message.test((err as Error).message));
    assert.deepEqual(await readdir(parent), ['dest']);
  }
  assert.equal((await stat('/etc/passwd')).nlink, before.nlink);
});

test('resolves hard link targets inside the destination', async (t) => {
  const { dest } = await sandbox(t);
  await assert.rejects(
    extract(dest, [{ name: 'stolen', type: 'link', linkname: '/etc/passwd' }]),
    (err) => isKind(err, 'invalid-parameter') && /ENOENT/.test((err as Error).message),
  );
  assert.equal(existsSync(join(dest, 'stolen')), false);
});

test('rejects a corrupt tar or gzip stream with invalid-parameter', async (t) => {
  const { dest } = await sandbox(t);
  const garbage = Buffer.alloc(2048, 'not a tar header ');
  await assert.rejects(extractTar(streamOf(garbage), dest, { whiteouts: 'overlay' }), (err) => {
    assert.ok(isKind(err, 'invalid-parameter'));
    assert.match((err as Error).message, /extracting layer into .*dest/);
    return true;
  });
  const gzipped = await buildTar([{ name: 'a', content: 'x'.repeat(10000) }], { gzip: true });
  const truncated = gzipped.subarray(0, gzipped.length - 20);
  await assert.rejects(extractTar(decompress(streamOf(truncated)), dest, { whiteouts: 'overlay' }), (err) =>
    isKind(err, 'invalid-parameter'),
  );
});

test("'overlay' whiteouts become 0/0 character devices and opaque xattrs", async (t) => {
  const { dest } = await sandbox(t);
  await extract(dest, [
    { name: 'etc/.wh.gone', uid: 3, gid: 4 },
    { name: 'var/.wh..wh..opq' },
  ]);
  const gone = await lstat(join(dest, 'etc/gone'));
  assert.ok(gone.isCharacterDevice());
  assert.deepEqual([gone.rdev, gone.uid, gone.gid], [0, 3, 4]);
  assert.equal(existsSync(join(dest, 'etc/.wh.gone')), false);
  assert.equal(lgetxattr(join(dest, 'var'), 'trusted.overlay.opaque')?.toString(), 'y');
  assert.deepEqual(await readdir(join(dest, 'var')), []);
});

test("'delete' whiteouts remove inherited entries but keep what the same tar wrote", async (t) => {
  const { dest } = await sandbox(t);
  await mkdir(join(dest, 'etc'), { recursive: true });
  await writeFile(join(dest, 'etc/gone'), 'parent');
  await mkdir(join(dest, 'data/sub'), { recursive: true });
  await writeFile(join(dest, 'data/old'), 'parent');
  await writeFile(join(dest, 'data/sub/old'), 'parent');
  await extract(
    dest,
    [
      { name: 'etc/.wh.gone' },
      { name: 'data/new', content: 'child' },
      { name: 'data/sub/new', content: 'child' },
      { name: 'data/.wh..wh..opq' },
    ],
    'delete',
  );
  assert.deepEqual(await readdir(join(dest, 'etc')), []);
  assert.deepEqual((await readdir(join(dest, 'data'))).sort(), ['new', 'sub']);
  assert.deepEqual(await readdir(join(dest, 'data/sub')), ['new']);
});

test('refuses whiteout names used as a directory inside a path', async (t) => {
  for (const name of ['keep/sub/.wh..wh..opq/x', 'a/.wh.b/c', 'a/.wh.']) {
    const { dest } = await sandbox(t);
    await mkdir(join(dest, 'keep/sub'), { recursive: true });
    await writeFile(join(dest, 'keep/sub/kept'), 'parent');
    for (const whiteouts of ['overlay', 'delete'] as const) {
      await assert.rejects(extract(dest, [{ name, content: 'x' }], whiteouts), (err) => {
        assert.ok(isKind(err, 'invalid-parameter'));
        assert.match((err as Error).message, /whiteout/);
        return true;
      });
    }
    assert.equal(await readFile(join(dest, 'keep/sub/kept'), 'utf8'), 'parent');
    assert.deepEqual((await readdir(dest)).sort(), ['keep']);
  }
});

test("refuses whiteouts of '.' and '..' before touching the tree", async (t) => {
  const cases: TarEntry[][] = [
    [{ name: 'x/', type: 'directory' }, { name: 'x/keep', content: 'k' }, { name: 'x/y/', type: 'directory' }, { name: 'x/y/.wh..', content: '' }],
    [{ name: 'a/.wh...', content: '' }],
    [
      { name: 'x/', type: 'directory' },
      { name: 'x/keep', content: 'k' },
      { name: 'x/y/', type: 'directory' },
      { name: 'x/y/f', content: 'f' },
      { name: 'x/y/.wh...', content: '' },
    ],
    [{ name: '.wh..', content: '' }],
  ];
  for (const entries of cases) {
    for (const whiteouts of ['overlay', 'delete'] as const) {
      const { parent, dest } = await sandbox(t);
      await mkdir(join(dest, 'a'));
      await assert.rejects(extract(dest, entries, whiteouts), (err) => {
        assert.ok(isKind(err, 'invalid-parameter'), String(err));
        assert.match((err as Error).message, /entry .*\.wh\.\.+: a whiteout cannot hide '\.\.?'/);
        return true;
      });
      // What the tar wrote before the refused entry stays as written; nothing was replaced.
      assert.deepEqual(await readdir(parent), ['dest']);
      assert.ok((await lstat(join(dest, 'a'))).isDirectory());
      if (entries.length > 1) {
        assert.equal(await readFile(join(dest, 'x/keep'), 'utf8'), 'k');
        assert.ok((await lstat(join(dest, 'x/y'))).isDirectory());
        assert.deepEqual(await readdir(join(dest, 'x/y')), entries.length === 5 ? ['f'] : []);
      }
    }
  }
});

/** A 64 MiB file `name` with `data` at its offsets and holes between, tarred by GNU tar with `flags`. */
async function gnuSparseTar(dir: string, flags: string[], name = 'sparse.img', data = SPARSE_DATA): Promise<Buffer> {
  const src = join(dir, 'src');
  await mkdir(join(src, posix.dirname(name)), { recursive: true });
  const file = await open(join(src, name), 'w');
  await file.truncate(SPARSE_SIZE);
  for (const [offset, text] of data) await file.write(text, offset);
  await file.close();
  return execFileSync('tar', ['--sparse', ...flags, '-C', src, '-cf', '-', name]);
}

const SPARSE_SIZE = 64 * 1024 * 1024;
const SPARSE_DATA: Array<[number, string]> = [
  [0, 'head'],
  [5_000_000, 'middle'],
  [SPARSE_SIZE - 3, 'end'],
];

test('expands GNU sparse entries (old GNU, PAX 1.0 and 0.1) with their holes kept', async (t) => {
  for (const flags of [['--format=gnu'], ['--format=pax', '--sparse-version=1.0'], ['--format=pax', '--sparse-version=0.1']]) {
    const { dest, parent } = await sandbox(t);
    const tar = await gnuSparseTar(parent, flags);
    assert.ok(tar.length < 64 * 1024, `GNU tar wrote a sparse entry (${flags.join(' ')})`);
    await extractTar(streamOf(tar), dest, { whiteouts: 'overlay' });
    assert.deepEqual(await readdir(dest), ['sparse.img']);
    const image = await stat(join(dest, 'sparse.img'));
    assert.equal(image.size, SPARSE_SIZE);
    assert.ok(image.blocks * 512 < 1024 * 1024, `holes kept (${image.blocks} blocks allocated)`);
    const file = await open(join(dest, 'sparse.img'), 'r');
    try {
      for (const [offset, text] of SPARSE_DATA) {
        const { buffer } = await file.read(Buffer.alloc(text.length + 2), 0, text.length + 2, Math.max(offset - 1, 0));
        const expected = offset === 0 ? `${text}\0\0` : `\0${text}${offset + text.length < SPARSE_SIZE ? '\0' : ''}`;
        assert.equal(buffer.subarray(0, expected.length).toString('latin1'), expected);
      }
    } finally {
      await file.close();
    }
  }
});

test('expands an old GNU sparse entry with map extension blocks and a long name', async (t) => {
  const { dest, parent } = await sandbox(t);
  // 40 pieces of data: more than the 4 map slots of the header, so GNU tar adds extension blocks.
  const data: Array<[number, string]> = Array.from({ length: 40 }, (_, i) => [i * 1_000_000 + 7, `piece ${i}`]);
  const name = `${'long-directory-name/'.repeat(6)}sparse.img`;
  const tar = await gnuSparseTar(parent, ['--format=gnu'], name, data);
  await extractTar(streamOf(tar), dest, { whiteouts: 'overlay' });
  const image = await stat(join(dest, name));
  assert.equal(image.size, SPARSE_SIZE);
  assert.ok(image.blocks * 512 < 2 * 1024 * 1024, `holes kept (${image.blocks} blocks allocated)`);
  const file = await open(join(dest, name), 'r');
  try {
    for (const [offset, text] of data) {
      const { buffer } = await file.read(Buffer.alloc(text.length + 2), 0, text.length + 2, offset - 1);
      assert.equal(buffer.toString('latin1'), `\0${text}\0`);
    }
  } finally {
    await file.close();
  }
});

test('refuses the GNU sparse format it cannot expand (PAX 0.0), naming it, and writes no file', async (t) => {
  for (const flags of [['--format=pax', '--sparse-version=0.0']]) {
    const { dest, parent } = await sandbox(t);
    const tar = await gnuSparseTar(parent, flags);
    await assert.rejects(extractTar(streamOf(tar), dest, { whiteouts: 'overlay' }), (err) => {
      assert.ok(isKind(err, 'invalid-parameter'));
      assert.match((err as Error).message, /sparse/);
      return true;
    });
    assert.deepEqual(await readdir(dest), []);
  }
});

test('decompresses gzip in the extractor and zstd before it, and reports the diff ID of the tar and the compression', async (t) => {
  const { parent, dest } = await sandbox(t);
  const entries = [{ name: 'a', content: 'x'.repeat(300_000) }, { name: 'dir/b', content: crypto.randomBytes(70_000) }];
  const plain = await buildTar(entries);
  const diffId = `sha256:${crypto.createHash('sha256').update(plain).digest('hex')}`;
  const gzipped = await buildTar(entries, { gzip: true });
  const zstded = execFileSync('zstd', ['-q', '-c'], { input: plain });
  const gzipFile = join(parent, 'layer.tar.gz');
  await writeFile(gzipFile, gzipped);
  const unreadGzipFile = async () => {
    const stream = createReadStream(gzipFile);
    await once(stream, 'open');
    return stream;
  };
  for (const [what, input, compression] of [
    ['plain', () => streamOf(plain), 'none'],
    ['gzip', () => streamOf(gzipped), 'gzip'],
    ['gzip, several members', () => streamOf(Buffer.concat([gzipSync(plain.subarray(0, 1000)), gzipSync(plain.subarray(1000))])), 'gzip'],
    ['gzip, from an unread file', unreadGzipFile, 'gzip'],
    ['zstd', () => streamOf(zstded), 'zstd'],
  ] as const) {
    await rm(dest, { recursive: true });
    await mkdir(dest);
    const result = await extractTar(await input(), dest, { whiteouts: 'overlay', decompress: true, digest: true });
    assert.deepEqual(result, { size: plain.length, diffId, compression }, what);
    assert.equal(await readFile(join(dest, 'a'), 'utf8'), 'x'.repeat(300_000), what);
  }
  // Without `decompress`, gzip is not sniffed: the bytes are the tar (which they are not).
  await assert.rejects(extractTar(streamOf(gzipped), dest, { whiteouts: 'overlay' }), (err) => isKind(err, 'invalid-parameter'));
  const truncated = gzipped.subarray(0, gzipped.length - 20);
  await assert.rejects(extractTar(streamOf(truncated), dest, { whiteouts: 'overlay', decompress: true, digest: true }), (err) => {
    assert.ok(isKind(err, 'invalid-parameter'));
    assert.match((err as Error).message, /gzip/);
    return true;
  });
});

test('writes names filling the header field, of 255-byte components and of 4000 bytes', async (t) => {
  const { dest } = await sandbox(t);
  const exactly100 = `${'d'.repeat(49)}/${'f'.repeat(50)}`;
  const longComponent = 'c'.repeat(255);
  const deep = Array.from({ length: 16 }, (_, i) => `${i}`.padStart(245, 'p')).join('/');
  assert.ok(deep.length > 3900 && deep.length < 4095);
  await extract(dest, [
    { name: 'f'.repeat(100), content: '100' },
    { name: exactly100, content: 'split' },
    { name: longComponent, content: '255' },
    { name: `${deep}/x`, content: 'deep' },
    { name: 'link-to-deep', type: 'symlink', linkname: `${deep}/x` },
    { name: 'hard-to-deep', type: 'link', linkname: `${deep}/x` },
  ]);
  assert.equal(await readFile(join(dest, 'f'.repeat(100)), 'utf8'), '100');
  assert.equal(await readFile(join(dest, exactly100), 'utf8'), 'split');
  assert.equal(await readFile(join(dest, longComponent), 'utf8'), '255');
  assert.equal(await readlink(join(dest, 'link-to-deep')), `${deep}/x`);
  assert.equal(await readFile(join(dest, 'hard-to-deep'), 'utf8'), 'deep');
});

test('sets xattrs with binary values (NUL, not UTF-8) from the PAX records as they are', async (t) => {
  const { dest } = await sandbox(t);
  const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0xfe, 0x80, 0x0a, 0x3d]);
  // tar-stream writes PAX values as text: the binary record is put in by the rewriter the packer uses.
  const tar = await buildTar([{ name: 'bin/ping', content: 'elf', pax: { [`${XATTR_BASE64_PAX_PREFIX}user.caps`]: value.toString('base64') } }]);
  const binary = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const rewriter = new TarRewriter({ sparseToPax: false, rewritePax: base64XattrsAsBinary });
    rewriter.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
    rewriter.end(tar);
  });
  assert.ok(binary.includes(Buffer.concat([Buffer.from('SCHILY.xattr.user.caps='), value])));
  await extractTar(streamOf(binary), dest, { whiteouts: 'overlay' });
  assert.deepEqual(lgetxattr(join(dest, 'bin/ping'), 'user.caps'), value);
});

test('takes owner and times from PAX records and base-256 fields, links into a directory that comes later', async (t) => {
  const { dest, parent } = await sandbox(t);
  const mtime = new Date('2021-05-06T07:08:09Z');
  await extract(dest, [
    { name: 'x/f', content: 'data', pax: { uid: '3000000', gid: '3000001', mtime: '1600000000.5', atime: '1500000000.25' } },
    { name: 'y/link', type: 'link', linkname: 'x/f' },
    { name: 'y/', type: 'directory', mode: 0o700, mtime },
  ]);
  const file = await lstat(join(dest, 'x/f'));
  assert.deepEqual([file.uid, file.gid, file.mtimeMs, file.atimeMs], [3000000, 3000001, 1600000000500, 1500000000250]);
  assert.equal((await lstat(join(dest, 'y/link'))).ino, file.ino);
  const y = await lstat(join(dest, 'y'));
  assert.deepEqual([y.mode & 0o777, y.mtime.getTime()], [0o700, mtime.getTime()]);
  // GNU tar writes an owner past the octal field's reach in base-256.
  const src = join(parent, 'src');
  await mkdir(src);
  await writeFile(join(src, 'big-owner'), 'b');
  const tar = execFileSync('tar', ['--format=gnu', '--owner=:5000000', '--group=:5000001', '-C', src, '-cf', '-', 'big-owner']);
  await extractTar(streamOf(tar), dest, { whiteouts: 'overlay' });
  const owned = await lstat(join(dest, 'big-owner'));
  assert.deepEqual([owned.uid, owned.gid], [5000000, 5000001]);
});

test('follows a layer file as it is written: reads on after each +, ends after E, fails when its writer gives up', async (t) => {
  const { parent, dest } = await sandbox(t);
  const plain = await buildTar([{ name: 'a', content: 'x'.repeat(300_000) }, { name: 'b', content: 'y\n' }]);
  const diffId = `sha256:${crypto.createHash('sha256').update(plain).digest('hex')}`;
  const path = join(parent, 'growing.tar');
  const follow = async (written: Buffer) => {
    await writeFile(path, written);
    const file = createReadStream(path, { fd: openSync(path, 'r') });
    let channel: Writable | undefined;
    const extracting = extractTar(file, dest, { whiteouts: 'overlay', decompress: true, digest: true, growing: { follow: (c) => (channel = c) } });
    extracting.catch(() => undefined);
    while (!channel) await new Promise((r) => setTimeout(r, 5));
    // Read up to what is written, the extractor waits for the writer.
    channel.write('+');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(join(dest, 'b')), false);
    return { channel, extracting };
  };

  const whole = await follow(plain.subarray(0, 100_000));
  await appendFile(path, plain.subarray(100_000, 200_000));
  whole.channel.write('+');
  await appendFile(path, plain.subarray(200_000));
  whole.channel.end('+E');
  assert.deepEqual(await whole.extracting, { size: plain.length, diffId, compression: 'none' });
  assert.equal(await readFile(join(dest, 'b'), 'utf8'), 'y\n');

  await rm(dest, { recursive: true });
  await mkdir(dest);
  const cut = await follow(plain.subarray(0, 100_000));
  cut.channel.destroy();
  await assert.rejects(cut.extracting, (err) => isKind(err, 'invalid-parameter') && /stopped short/.test((err as Error).message));
});
