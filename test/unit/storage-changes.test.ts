import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytePath, goJsonText } from '../../src/common/byte-path.js';
import { lsetxattr } from '../../src/native/index.js';
import { layerChanges } from '../../src/storage/changes.js';
import { tempDir } from './archive-fixtures.js';

/** `name` (one character a byte) under the folder `dir`, as the Buffer path the file system takes. */
const at = (dir: string, name: string) => Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(name, 'latin1')]);

/** A parent layer's files, their names not UTF-8. */
async function parentLayer(dir: string): Promise<void> {
  for (const folder of ['gonedir\xff', 'opq\xfe']) await mkdir(at(dir, folder));
  for (const file of ['keep\xff', 'mod\xff', 'gone\xff', 'gonedir\xff/f', 'opq\xfe/old\xff']) await writeFile(at(dir, file), 'base');
}

const listed = (changes: Array<{ path: string; kind: string }>) => changes.map(({ path, kind }) => `${kind} ${path}`);

test('a full copy (vfs) against its parent: added, changed and deleted names that are not UTF-8, as their bytes', async (t) => {
  const dir = await tempDir(t, 'changes-copy');
  const parent = join(dir, 'parent');
  const top = join(dir, 'top');
  await mkdir(parent);
  await parentLayer(parent);
  execFileSync('cp', ['-a', parent, top]);
  await writeFile(at(top, 'mod\xff'), 'modified');
  await writeFile(at(top, 'new\xfe'), 'new');
  await rm(at(top, 'gone\xff'));
  await rm(at(top, 'gonedir\xff'), { recursive: true });
  // Byte order: 'gonedir\xff' before 'gone\xff' ('d' < 0xff).
  assert.deepEqual(listed(await layerChanges({ top, parent, complete: true })), ['D /gonedir\xff', 'D /gone\xff', 'C /mod\xff', 'A /new\xfe']);
});

test('an overlay upper dir against its lowers: whiteouts and an opaque directory with names that are not UTF-8', async (t) => {
  const dir = await tempDir(t, 'changes-upper');
  const parent = join(dir, 'parent');
  const top = join(dir, 'upper');
  await mkdir(parent);
  await parentLayer(parent);
  await mkdir(top);
  await writeFile(at(top, 'mod\xff'), 'modified');
  await writeFile(at(top, 'new\xfe'), 'new');
  // overlayfs's whiteouts: 0/0 character devices (made by the shell: the name's bytes are printf's).
  execFileSync('sh', ['-c', `cd "$1" && mknod "$(printf 'gone\\377')" c 0 0 && mknod "$(printf 'gonedir\\377')" c 0 0`, 'sh', top]);
  await mkdir(at(top, 'opq\xfe'));
  lsetxattr(at(top, 'opq\xfe'), 'trusted.overlay.opaque', Buffer.from('y'));
  await writeFile(at(top, 'opq\xfe/n'), 'n');
  assert.deepEqual(listed(await layerChanges({ top, parent, complete: false })), [
    'D /gonedir\xff',
    'D /gone\xff',
    'C /mod\xff',
    'A /new\xfe',
    'C /opq\xfe',
    'A /opq\xfe/n',
    'D /opq\xfe/old\xff',
  ]);
  const opaque = (await layerChanges({ top, parent, complete: false })).find((change) => change.path === '/opq\xfe');
  assert.equal(opaque?.opaque, true, 'the opaque xattr is read by the name’s bytes');
});

test('names shown as Go’s encoding/json shows a string of their bytes: one U+FFFD for each byte not in a valid sequence', () => {
  const shown = (...bytes: number[]) => goJsonText(bytePath(Buffer.from(bytes)));
  assert.equal(shown(0x61, 0xff, 0x62), 'a\ufffdb');
  assert.equal(shown(0x2f, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x90, 0xb3), '/é€🐳', 'valid UTF-8 as it is');
  // A cut-short sequence: one U+FFFD a byte (TextDecoder would give one for both).
  assert.equal(shown(0x61, 0xe2, 0x82, 0x62), 'a\ufffd\ufffdb');
  assert.equal(shown(0xe2, 0x82), '\ufffd\ufffd');
  assert.equal(shown(0xc0, 0xaf), '\ufffd\ufffd', 'an overlong form');
  assert.equal(shown(0xed, 0xa0, 0x80), '\ufffd\ufffd\ufffd', 'a surrogate');
  assert.equal(shown(0xf4, 0x90, 0x80, 0x80), '\ufffd\ufffd\ufffd\ufffd', 'above U+10FFFF');
  assert.equal(shown(0x80, 0xef, 0xbf, 0xbd), '\ufffd\ufffd', 'a U+FFFD of the name’s own stays one');
});
