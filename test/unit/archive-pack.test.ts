import assert from 'node:assert/strict';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { extract } from 'tar-stream';
import { packDiff } from '../../src/archive/index.js';
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
