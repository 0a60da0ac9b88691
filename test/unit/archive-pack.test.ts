import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { extract } from 'tar-stream';
import { extractTar, packDiff } from '../../src/archive/index.js';
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
