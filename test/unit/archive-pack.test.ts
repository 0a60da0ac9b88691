import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { appendFile, chmod, chown, link, lstat, lutimes, mkdir, open, readFile, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { extract, type Headers } from 'tar-stream';
import { extractTar, packDiff as packLayerDiff, packDiffToFile as packLayerDiffToFile, type DiffEntry } from '../../src/archive/index.js';
import { bytePathOf } from '../../src/common/byte-path.js';
import { writeDiffTar } from '../../src/archive/pack-entries.js';
import { lgetxattr, lsetxattr } from '../../src/native/index.js';
import { nativeToolPath } from '../../src/native/tools.js';
import { streamOf, tempDir } from './archive-fixtures.js';

// The layer packer takes names as bytes; these tests name their entries in text (UTF-8).
const asBytes = (entries: DiffEntry[]) => entries.map((entry) => ({ ...entry, path: bytePathOf(entry.path) }));
const packDiff = (top: string, entries: DiffEntry[]) => packLayerDiff(top, asBytes(entries));
const packDiffToFile = (top: string, entries: DiffEntry[], blob: string) => packLayerDiffToFile(top, asBytes(entries), blob);

/** name → [type, content or link target] of every entry of a tar. */
async function entriesOf(tar: Buffer): Promise<Record<string, [string, string]>> {
  const found: Record<string, [string, string]> = {};
  const entries = extract();
  streamOf(tar).pipe(entries);
  for await (const entry of entries) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    found[entry.header.name] = [entry.header.type ?? '?', entry.header.linkname ?? Buffer.concat(chunks).toString()];
  }
  return found;
}

test('packs a layer’s changes with whiteouts, opaque markers, symlinks and hard links', async (t) => {
  const top = await tempDir(t, 'pack');
  await mkdir(join(top, 'etc'));
  await writeFile(join(top, 'etc/new'), 'new');
  await link(join(top, 'etc/new'), join(top, 'etc/twin'));
  await symlink('new', join(top, 'etc/alias'));
  await mkdir(join(top, 'opq'));
  await writeFile(join(top, 'opq/kept'), 'kept');
  const tar = Buffer.concat(
    await packDiff(top, [
      { path: '/etc', kind: 'C', opaque: false },
      { path: '/etc/alias', kind: 'A', opaque: false },
      { path: '/etc/gone', kind: 'D', opaque: false },
      { path: '/etc/new', kind: 'A', opaque: false },
      { path: '/etc/twin', kind: 'A', opaque: false },
      { path: '/opq', kind: 'C', opaque: true },
      { path: '/opq/kept', kind: 'A', opaque: false },
      { path: '/opq/old', kind: 'D', opaque: false },
    ]).toArray(),
  );
  assert.deepEqual(await entriesOf(tar), {
    'etc/': ['directory', ''],
    'etc/alias': ['symlink', 'new'],
    'etc/.wh.gone': ['file', ''],
    'etc/new': ['file', 'new'],
    'etc/twin': ['link', 'etc/new'],
    'opq/': ['directory', ''],
    'opq/.wh..wh..opq': ['file', ''],
    'opq/kept': ['file', 'kept'],
  });
});

test('reads nothing outside the layer, even through a symlink swapped in for a directory', async (t) => {
  const outside = await tempDir(t, 'pack-outside');
  await writeFile(join(outside, 'secret'), 'host secret');
  const top = await tempDir(t, 'pack');
  // What a running container can do between the changes walk and the packing.
  await symlink(outside, join(top, 'etc'));
  const tar = packDiff(top, [{ path: '/etc/secret', kind: 'A', opaque: false }]);
  await assert.rejects(tar.toArray(), /packing layer changes in .*ENOENT/);
});

const BINARY = Buffer.from([0xff, 0x00, 0x80, 0x41, 0xc3]);

test('keeps binary xattr values byte for byte: GNU tar’s in, ours out and back in', async (t) => {
  const src = await tempDir(t, 'xattr-src');
  await writeFile(join(src, 'file'), 'x');
  lsetxattr(join(src, 'file'), 'user.bin', BINARY);
  lsetxattr(join(src, 'file'), 'user.text', Buffer.from('héllo'));
  const gnuTar = execFileSync('tar', ['--xattrs', '--xattrs-include=user.*', '--format=pax', '-C', src, '-cf', '-', 'file']);
  const fromGnu = await tempDir(t, 'xattr-dest');
  await extractTar(streamOf(gnuTar), fromGnu, { whiteouts: 'overlay' });
  assert.deepEqual(lgetxattr(join(fromGnu, 'file'), 'user.bin'), BINARY);
  assert.equal(lgetxattr(join(fromGnu, 'file'), 'user.text')?.toString(), 'héllo');

  const ours = Buffer.concat(await packDiff(fromGnu, [{ path: '/file', kind: 'A', opaque: false }]).toArray());
  assert.ok(ours.includes(Buffer.concat([Buffer.from('SCHILY.xattr.user.bin='), BINARY, Buffer.from('\n')])), 'the raw value, as Docker writes it');
  const back = await tempDir(t, 'xattr-back');
  await extractTar(streamOf(ours), back, { whiteouts: 'overlay' });
  assert.deepEqual(lgetxattr(join(back, 'file'), 'user.bin'), BINARY);
  assert.equal(lgetxattr(join(back, 'file'), 'user.text')?.toString(), 'héllo');
  // GNU tar reads our tar too.
  const byGnu = await tempDir(t, 'xattr-gnu');
  execFileSync('tar', ['--xattrs', '--xattrs-include=user.*', '-C', byGnu, '-xf', '-'], { input: ours });
  assert.deepEqual(lgetxattr(join(byGnu, 'file'), 'user.bin'), BINARY);
});

/**
 * A copy of `tar` with the time and checksum of its whiteout headers blanked: both packers stamp
 * those with the time of packing (as Docker does), which two runs need not share.
 */
function withoutWhiteoutTimes(tar: Buffer): Buffer {
  const out = Buffer.from(tar);
  let paxName: string | undefined;
  for (let offset = 0; offset + 512 <= out.length; ) {
    const header = out.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const type = String.fromCharCode(header[156]!);
    const size = header[124]! & 0x80 ? Number(header.readBigUInt64BE(128)) : parseInt(header.subarray(124, 136).toString('latin1'), 8);
    const data = out.subarray(offset + 512, offset + 512 + size);
    const name = paxName ?? header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    paxName = type === 'x' ? /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('latin1'))?.[1] : undefined;
    if (type !== 'x' && name.split('/').pop()!.startsWith('.wh.')) header.fill(0, 136, 156);
    offset += 512 + (type === '5' ? 0 : Math.ceil(size / 512) * 512);
  }
  return out;
}

async function writeDiffTarOf(top: string, entries: DiffEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await writeDiffTar(top, entries, sink);
  return Buffer.concat(chunks);
}

test('berth-pack writes the tar writeDiffTar writes, byte for byte, for every kind of entry', async (t) => {
  const top = await tempDir(t, 'pack-bytes');
  const long = 'a-rather-long-directory-name-that-goes-on'.repeat(2);
  const entries: DiffEntry[] = [];
  const add = (path: string, kind: DiffEntry['kind'] = 'A', opaque = false) => entries.push({ path, kind, opaque });
  await mkdir(join(top, 'dir'));
  add('/dir', 'C');
  await writeFile(join(top, 'dir/empty'), '');
  add('/dir/empty');
  await writeFile(join(top, 'dir/file'), randomBytes(3 * 1024 * 1024 + 17));
  await chmod(join(top, 'dir/file'), 0o4755);
  await chown(join(top, 'dir/file'), 1234, 5678);
  await utimes(join(top, 'dir/file'), 1_000_000_000.25, 1_234_567_890.75);
  add('/dir/file');
  add('/dir/gone', 'D');
  await link(join(top, 'dir/file'), join(top, 'dir/hard'));
  add('/dir/hard');
  await writeFile(join(top, 'dir/héllo wörld'), 'utf-8 name');
  add('/dir/héllo wörld');
  await symlink('../dir/file', join(top, 'dir/link'));
  add('/dir/link');
  await symlink('t'.repeat(150), join(top, 'dir/long-link'));
  add('/dir/long-link');
  await symlink('ü', join(top, 'dir/utf8-link'));
  add('/dir/utf8-link');
  // Split between ustar's prefix and name fields, then too long for them (a PAX path).
  await mkdir(join(top, long, long), { recursive: true });
  add(`/${long}`);
  add(`/${long}/${long}`);
  await writeFile(join(top, long, 'f'.repeat(90)), 'prefixed');
  add(`/${long}/${'f'.repeat(90)}`);
  await writeFile(join(top, long, long, 'g'.repeat(99)), 'pax path');
  add(`/${long}/${long}/${'g'.repeat(99)}`);
  // A prefix of exactly 155 bytes (the directory's own entry: all prefix, an empty name).
  await mkdir(join(top, 'p'.repeat(155)));
  add(`/${'p'.repeat(155)}`);
  await writeFile(join(top, 'p'.repeat(155), 'n'.repeat(100)), 'full fields');
  add(`/${'p'.repeat(155)}/${'n'.repeat(100)}`);
  await writeFile(join(top, 'xattrs'), 'x');
  lsetxattr(join(top, 'xattrs'), 'user.bin', BINARY);
  lsetxattr(join(top, 'xattrs'), 'user.text', Buffer.from('héllo'));
  lsetxattr(join(top, 'xattrs'), 'user.empty', Buffer.alloc(0));
  lsetxattr(join(top, 'xattrs'), 'security.capability', Buffer.from('0100000200200000000000000000000000000000', 'hex'));
  add('/xattrs');
  const sparse = await open(join(top, 'sparse'), 'w');
  await sparse.write('start', 0);
  await sparse.write('end', 5 * 1024 * 1024);
  await sparse.close();
  add('/sparse');
  execFileSync('mknod', [join(top, 'null'), 'c', '1', '3']);
  add('/null');
  execFileSync('mknod', [join(top, 'disk'), 'b', '259', '70000']);
  add('/disk');
  execFileSync('mkfifo', [join(top, 'fifo')]);
  add('/fifo');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(top, 'socket'), resolve));
  t.after(() => server.close());
  add('/socket'); // left out by both
  await mkdir(join(top, 'opq'));
  lsetxattr(join(top, 'opq'), 'trusted.overlay.opaque', Buffer.from('y'));
  lsetxattr(join(top, 'opq'), 'user.kept', Buffer.from('on a directory'));
  add('/opq', 'C', true);
  add('/opq/hidden', 'D');
  await writeFile(join(top, 'opq/new'), 'new');
  add('/opq/new');
  add('/top-gone', 'D');

  // Whole seconds: Node rounds a time to the millisecond, so one in its second's last half
  // millisecond comes out of writeDiffTar a second late (berth-pack truncates, as Docker does).
  for (const { path, kind } of entries) if (kind !== 'D' && path !== '/dir/file') await lutimes(join(top, path), 1_600_000_000, 1_600_000_000);

  const expected = await writeDiffTarOf(top, entries);
  const packed = Buffer.concat(await packDiff(top, entries).toArray());
  assert.ok(packed.includes(Buffer.concat([Buffer.from('SCHILY.xattr.user.bin='), BINARY, Buffer.from('\n')])));
  assert.ok(!packed.includes(Buffer.from('trusted.overlay')), 'overlayfs’s own xattrs are left out');
  assert.equal(packed.length, expected.length);
  assert.ok(withoutWhiteoutTimes(packed).equals(withoutWhiteoutTimes(expected)), 'the same bytes');

  // Into a blob: the same bytes, their digest and size reported.
  const blob = join(top, '..', `${basename(top)}.blob`);
  t.after(() => rm(blob, { force: true }));
  const written = await packDiffToFile(top, entries, blob);
  const stored = await readFile(blob);
  assert.deepEqual(written, { digest: `sha256:${createHash('sha256').update(stored).digest('hex')}`, size: stored.length });
  assert.ok(withoutWhiteoutTimes(stored).equals(withoutWhiteoutTimes(expected)));
  await assert.rejects(packDiffToFile(top, entries, blob), /EEXIST/, 'the blob must be a new file');
});

test('berth-pack keeps a mode of 0 and ids too big for ustar (in PAX records), as Docker does', async (t) => {
  const top = await tempDir(t, 'pack-modes');
  await writeFile(join(top, 'shadow'), 'secret', { mode: 0 });
  await chmod(join(top, 'shadow'), 0);
  await writeFile(join(top, 'mapped'), 'x');
  await chown(join(top, 'mapped'), 300_000, 1_000_000);
  const tar = Buffer.concat(
    await packDiff(top, [
      { path: '/shadow', kind: 'A', opaque: false },
      { path: '/mapped', kind: 'A', opaque: false },
    ]).toArray(),
  );
  const headers: Record<string, Headers> = {};
  const entries = extract();
  streamOf(tar).pipe(entries);
  for await (const entry of entries) {
    headers[entry.header.name] = entry.header;
    entry.resume();
  }
  assert.equal(headers.shadow?.mode, 0);
  assert.ok(tar.includes(Buffer.from('14 uid=300000\n')) && tar.includes(Buffer.from('15 gid=1000000\n')));
  const listed = execFileSync('tar', ['--numeric-owner', '-tvf', '-'], { input: tar }).toString();
  assert.match(listed, /300000\/1000000 .* mapped/);
});

test('berth-pack pads a file that shrank while it was read to the size its header gave', async (t) => {
  const top = await tempDir(t, 'pack-shrink');
  // A sysfs file says 4096 bytes and has fewer: what a file truncated between lstat and read looks like.
  const source = '/sys/kernel/mm/transparent_hugepage/enabled';
  const text = await readFile(source);
  assert.ok(text.length > 0 && text.length < 4096);
  await writeFile(join(top, 'file'), '');
  execFileSync('mount', ['--bind', source, join(top, 'file')]);
  let tar: Buffer;
  try {
    tar = Buffer.concat(await packDiff(top, [{ path: '/file', kind: 'A', opaque: false }, { path: '/after', kind: 'D', opaque: false }]).toArray());
  } finally {
    execFileSync('umount', [join(top, 'file')]);
  }
  const contents: Record<string, Buffer> = {};
  const entries = extract();
  streamOf(tar).pipe(entries);
  for await (const entry of entries) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    contents[entry.header.name] = Buffer.concat(chunks);
  }
  assert.deepEqual(Object.keys(contents), ['file', '.wh.after']);
  assert.equal(contents.file!.length, 4096);
  assert.deepEqual(contents.file!.subarray(0, text.length), text);
  assert.ok(contents.file!.subarray(text.length).every((byte) => byte === 0));
});

/** The entries of a tar as GNU tar lists them (names quoted as `tar -tv` quotes them). */
function gnuListing(tar: Buffer): string {
  return execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', '-'], { input: tar, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
}

test('berth-pack writes what no ustar field holds as writeDiffTar does: newlines and = in names, long link targets, big xattrs', async (t) => {
  const top = await tempDir(t, 'pack-hostile');
  const entries: DiffEntry[] = [];
  const add = (path: string) => entries.push({ path, kind: 'A', opaque: false });
  await writeFile(join(top, 'new\nline'), 'newline');
  add('/new\nline');
  await writeFile(join(top, 'key=value'), 'equals');
  add('/key=value');
  await writeFile(join(top, 'x'.repeat(255)), 'longest name');
  add(`/${'x'.repeat(255)}`);
  // The longest target Linux stores (PATH_MAX less its NUL).
  await symlink('t'.repeat(4095), join(top, 'long-target'));
  add('/long-target');
  await symlink('line\nbreak=', join(top, 'odd-target'));
  add('/odd-target');
  // PAX records bigger than a block, and one whose length gains a digit with its own digits.
  await writeFile(join(top, 'big-xattrs'), 'x');
  lsetxattr(join(top, 'big-xattrs'), 'user.big', randomBytes(3000));
  lsetxattr(join(top, 'big-xattrs'), 'user.edge', Buffer.alloc(100 - ' SCHILY.xattr.user.edge=\n'.length - 2, 'e'));
  add('/big-xattrs');
  await mkdir(join(top, 'deep/'.repeat(300)), { recursive: true });
  for (let depth = 1; depth <= 300; depth++) add(`/${'deep/'.repeat(depth).slice(0, -1)}`);
  for (const { path } of entries) await lutimes(join(top, path), 1_600_000_000, 1_600_000_000);

  const expected = await writeDiffTarOf(top, entries);
  const packed = Buffer.concat(await packDiff(top, entries).toArray());
  assert.equal(packed.length, expected.length);
  assert.ok(packed.equals(expected), 'the same bytes');
  assert.ok(packed.includes(Buffer.from('101 SCHILY.xattr.user.edge=e')), 'a length of 98 bytes and its 3 digits');

  const listed = gnuListing(packed);
  assert.match(listed, /new\\nline\n/);
  assert.match(listed, /odd-target -> line\\nbreak=\n/);
  assert.match(listed, new RegExp(`long-target -> t{4095}\\n`));
  const back = await tempDir(t, 'pack-hostile-back');
  await extractTar(streamOf(packed), back, { whiteouts: 'overlay' });
  assert.equal(await readFile(join(back, 'new\nline'), 'utf8'), 'newline');
  assert.equal(await readFile(join(back, 'key=value'), 'utf8'), 'equals');
  assert.deepEqual(lgetxattr(join(back, 'big-xattrs'), 'user.big'), lgetxattr(join(top, 'big-xattrs'), 'user.big'));
  const byGnu = await tempDir(t, 'pack-hostile-gnu');
  execFileSync('tar', ['--xattrs', '--xattrs-include=user.*', '-C', byGnu, '-xf', '-'], { input: packed });
  assert.deepEqual(lgetxattr(join(byGnu, 'big-xattrs'), 'user.big'), lgetxattr(join(top, 'big-xattrs'), 'user.big'));
  assert.equal(await readFile(join(byGnu, 'x'.repeat(255)), 'utf8'), 'longest name');
});

/** Runs berth-pack itself: [status or signal, stdout, stderr]. */
function runPacker(args: string[], entries: Buffer): { status: number | null; signal: string | null; stdout: Buffer; stderr: string } {
  const result = spawnSync(nativeToolPath('berth-pack'), args, { input: entries, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr.toString() };
}

test('berth-pack keeps names that are not UTF-8 and times before 1970 or past ustar’s 2242, GNU tar reading them back', async (t) => {
  const top = await tempDir(t, 'pack-bytes-names');
  const latin1 = Buffer.from('caf\xe9', 'latin1');
  await writeFile(Buffer.concat([Buffer.from(`${top}/`), latin1]), 'not utf-8');
  await writeFile(join(top, 'old'), 'before 1970');
  // Node takes a time before 1970 for "now".
  execFileSync('touch', ['-h', '-d', '@-86400', join(top, 'old')]);
  // ext4 keeps times up to 2446; ustar's 11 octal digits stop in 2242.
  await writeFile(join(top, 'late'), 'after 2242');
  await utimes(join(top, 'late'), 15_000_000_000, 15_000_000_000);
  const entries = Buffer.concat([Buffer.from('A0/'), latin1, Buffer.from('\0A0/old\0A0/late\0')]);
  const { status, stdout: tar, stderr } = runPacker([top], entries);
  assert.equal(status, 0, stderr);
  assert.ok(tar.includes(Buffer.concat([Buffer.from('path='), latin1, Buffer.from('\n')])), 'the name’s bytes in a PAX record');
  assert.ok(tar.includes(Buffer.from(' mtime=-86400\n')) && tar.includes(Buffer.from(' mtime=15000000000\n')));
  const byGnu = await tempDir(t, 'pack-bytes-names-gnu');
  execFileSync('tar', ['-C', byGnu, '-xf', '-'], { input: tar, stdio: ['pipe', 'ignore', 'ignore'] });
  assert.equal((await readFile(Buffer.concat([Buffer.from(`${byGnu}/`), latin1]))).toString(), 'not utf-8');
  assert.equal((await stat(join(byGnu, 'old'))).mtimeMs, -86_400_000);
  assert.equal((await stat(join(byGnu, 'late'))).mtimeMs, 15_000_000_000_000);
});

test('berth-pack writes an 8 GiB file’s size in base-256, as GNU tar reads it', async (t) => {
  const top = await tempDir(t, 'pack-huge');
  const size = 8 * 1024 ** 3 + 1;
  await writeFile(join(top, 'huge'), '');
  await truncate(join(top, 'huge'), size);
  // Its header is all this checks: reading 8 GiB of holes would take a while.
  const tar = packDiff(top, [{ path: '/huge', kind: 'A', opaque: false }]);
  let head = Buffer.alloc(0);
  for await (const chunk of tar) {
    head = Buffer.concat([head, chunk as Buffer]);
    if (head.length >= 1024) break;
  }
  const header = head.subarray(0, 512);
  assert.equal(header[124], 0x80);
  assert.equal(header.readBigUInt64BE(128), BigInt(size));
  // GNU tar lists the entry from its header, then misses the data.
  const listing = spawnSync('tar', ['-tvf', '-'], { input: head });
  assert.match(listing.stdout.toString(), / 8589934593 .* huge\n/);
});

test('berth-pack writes the size a file had when it was looked at, whether it then grows or shrinks', async (t) => {
  const top = await tempDir(t, 'pack-racing');
  const original = randomBytes(4 * 1024 * 1024);
  await writeFile(join(top, 'grows'), original);
  await writeFile(join(top, 'shrinks'), original);
  const entries: DiffEntry[] = [
    { path: '/grows', kind: 'A', opaque: false },
    { path: '/shrinks', kind: 'A', opaque: false },
    { path: '/after', kind: 'D', opaque: false },
  ];
  const tar = packDiff(top, entries);
  const chunks: Buffer[] = [];
  let seen = Buffer.alloc(0);
  const changed = new Set<string>();
  // A file's header comes out once it is opened and its first megabyte read; the packer then
  // waits for us to take its output, and meanwhile the "container" changes the file.
  for await (const chunk of tar) {
    chunks.push(chunk as Buffer);
    seen = Buffer.concat([seen.subarray(-600), chunk as Buffer]);
    for (const [name, change] of [
      ['grows', () => appendFile(join(top, 'grows'), randomBytes(1024 * 1024))],
      ['shrinks', () => truncate(join(top, 'shrinks'), 1024)],
    ] as const) {
      if (!changed.has(name) && seen.includes(Buffer.from(`${name}\0`))) {
        changed.add(name);
        await change();
      }
    }
  }
  assert.deepEqual([...changed], ['grows', 'shrinks']);
  const contents: Record<string, Buffer> = {};
  const parsed = extract();
  streamOf(Buffer.concat(chunks)).pipe(parsed);
  for await (const entry of parsed) {
    const data: Buffer[] = [];
    for await (const chunk of entry) data.push(chunk as Buffer);
    contents[entry.header.name] = Buffer.concat(data);
  }
  assert.deepEqual(Object.keys(contents), ['grows', 'shrinks', '.wh.after']);
  assert.ok(contents.grows!.equals(original), 'cut at the size its header gave');
  const shrunk = contents.shrinks!;
  assert.equal(shrunk.length, original.length);
  let read = shrunk.length;
  while (read > 0 && shrunk[read - 1] === 0) read--;
  assert.ok(read >= 1024 && read < original.length, `read ${read} bytes before the cut`);
  assert.ok(shrunk.subarray(0, read).equals(original.subarray(0, read)));
  assert.ok(shrunk.subarray(read).every((byte) => byte === 0), 'then zeros');
  assert.match(gnuListing(Buffer.concat(chunks)), /\.wh\.after\n$/);
});

test('berth-pack fails with ENOSPC when its blob’s filesystem fills up', async (t) => {
  const top = await tempDir(t, 'pack-full');
  await writeFile(join(top, 'file'), randomBytes(3 * 1024 * 1024));
  const small = join(top, '..', `${basename(top)}.fs`);
  await mkdir(small);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      const blob = join(small, 'blob');
      await assert.rejects(packDiffToFile(top, [{ path: '/file', kind: 'A', opaque: false }], blob), /writing the blob: No space left on device \(ENOSPC\)/);
    } finally {
      execFileSync('umount', [small]);
    }
  } finally {
    await rm(small, { recursive: true, force: true });
  }
});

test('berth-pack ends when the reader of its tar goes away', async (t) => {
  const top = await tempDir(t, 'pack-epipe');
  await writeFile(join(top, 'file'), '');
  await truncate(join(top, 'file'), 256 * 1024 * 1024);
  const packer = spawn(nativeToolPath('berth-pack'), [top], { stdio: ['pipe', 'pipe', 'pipe'] });
  packer.stdin.end('A0/file\0');
  await once(packer.stdout, 'readable');
  packer.stdout.destroy();
  const [status, signal] = (await once(packer, 'close')) as [number | null, string | null];
  // A write error either way: the signal berthd's children start with, or EPIPE where it is ignored.
  assert.ok(signal === 'SIGPIPE' || status === 1, `status ${status}, signal ${signal}`);
});

test('berth-pack reports a path too long to look up, and reads nothing through a relative symlink out of the layer', async (t) => {
  const top = await tempDir(t, 'pack-fail');
  const deep = `/${'d'.repeat(250)}`.repeat(20);
  const failed = runPacker([top], Buffer.from(`A0${deep}\0`));
  assert.equal(failed.status, 1);
  const report = JSON.parse(failed.stderr) as { message: string; code: string };
  assert.equal(report.code, 'ENAMETOOLONG');
  assert.ok(report.message.startsWith('lstat /ddd'));

  const outside = await tempDir(t, 'pack-outside');
  await writeFile(join(outside, 'secret'), 'host secret');
  await symlink(`${'../'.repeat(20)}${outside.slice(1)}`, join(top, 'etc'));
  await assert.rejects(packDiff(top, [{ path: '/etc/secret', kind: 'A', opaque: false }]).toArray(), /lstat \/etc\/secret: No such file or directory \(ENOENT\)/);
});

/** A "container" that swaps the names `a` and `b` in `dir` (renameat2 RENAME_EXCHANGE) as fast as it can. */
const SWAPPER = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
os.chdir(sys.argv[1])
while True:
    libc.renameat2(-100, b'a', -100, b'b', 2)
`;

test('berth-pack never opens a device node a container swaps in for a file between its lstat and its open', async (t) => {
  const top = await tempDir(t, 'pack-swap');
  await writeFile(join(top, 'a'), 'a file');
  execFileSync('mknod', [join(top, 'b'), 'c', '1', '3']);
  const swapper = spawn('python3', ['-c', SWAPPER, top], { stdio: 'ignore' });
  t.after(() => swapper.kill('SIGKILL'));
  while (!(await lstat(join(top, 'a')).catch(() => undefined))?.isCharacterDevice()) await new Promise((resolve) => setTimeout(resolve, 5));
  const failures = new Set<string>();
  // Packing /a 20000 times over hits the window between lstat and open within a run or two.
  const entries = Buffer.from('A0/a\0'.repeat(20_000));
  for (let run = 0; run < 10 && failures.size === 0; run++) {
    const { status, stderr } = runPacker([top], entries);
    if (status !== 0) failures.add(stderr);
  }
  // Before, the device was opened, then found not to be the file lstat'ed: "/a changed while it was packed".
  assert.deepEqual([...failures], ['{"message":"open /a: Permission denied","code":"EACCES"}\n']);
});

/** A "container" that keeps growing, shrinking, adding and removing the xattrs of `path`. */
const XATTR_FLIPPER = `
import os, sys
p = sys.argv[1]
long = 'user.' + 'n' * 100
while True:
    os.setxattr(p, 'user.v', b'x' * 3000)
    os.setxattr(p, 'user.w', b'w')
    os.setxattr(p, long, b'z' * 200)
    os.setxattr(p, 'user.v', b'y')
    os.removexattr(p, 'user.w')
    os.removexattr(p, long)
`;

test('berth-pack reads xattrs a container changes meanwhile (ERANGE, ENODATA) as one of the values they had', async (t) => {
  const top = await tempDir(t, 'pack-xattr-race');
  await writeFile(join(top, 'f'), 'data');
  const flipper = spawn('python3', ['-c', XATTR_FLIPPER, join(top, 'f')], { stdio: 'ignore' });
  t.after(() => flipper.kill('SIGKILL'));
  while (lgetxattr(join(top, 'f'), 'user.v') === null) await new Promise((resolve) => setTimeout(resolve, 5));
  // The value or list sizes change between the call that sizes the buffer and the one that fills it.
  const values = new Set<string>();
  for (let run = 0; run < 20 && !(values.has('user.v=x3000') && values.has('user.v=y1')); run++) {
    const { status, stdout: tar, stderr } = runPacker([top], Buffer.from('A0/f\0'.repeat(2_000)));
    assert.equal(status, 0, stderr);
    const parsed = extract();
    streamOf(tar).pipe(parsed);
    for await (const entry of parsed) {
      for (const [key, value] of Object.entries((entry.header as Headers & { pax?: Record<string, string> }).pax ?? {})) {
        if (key.startsWith('SCHILY.xattr.')) values.add(`${key.slice('SCHILY.xattr.'.length, 'SCHILY.xattr.'.length + 6)}=${value.slice(0, 1)}${value.length}`);
      }
      entry.resume();
    }
  }
  for (const value of values) assert.ok(['user.v=x3000', 'user.v=y1', 'user.w=w1', 'user.n=z200'].includes(value), value);
  assert.ok(values.has('user.v=x3000') && values.has('user.v=y1'), [...values].join());
});
