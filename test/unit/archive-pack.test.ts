import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, link, lutimes, mkdir, open, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { extract, type Headers } from 'tar-stream';
import { extractTar, packDiff, packDiffToFile, type DiffEntry } from '../../src/archive/index.js';
import { writeDiffTar } from '../../src/archive/pack-entries.js';
import { lgetxattr, lsetxattr } from '../../src/native/index.js';
import { streamOf, tempDir } from './archive-fixtures.js';

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
