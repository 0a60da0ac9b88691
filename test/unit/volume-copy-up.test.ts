/** Copy-up reads the image's folder inside the rootfs: a link in the image never leads to a host folder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyUp } from '../../src/engine/volumes/copy-up.js';

test('a destination that is a link to /etc in the image is copied from the rootfs\'s /etc, not the host\'s', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'berth-copyup-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const rootfs = join(base, 'rootfs');
  const volume = join(base, 'volume');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await mkdir(volume);
  await writeFile(join(rootfs, 'etc/only-in-image'), 'x');
  await symlink('/etc', join(rootfs, 'data'));
  await symlink('../../../../../etc/passwd', join(rootfs, 'etc/relative-link'));
  assert.equal(await copyUp(rootfs, '/data', volume), true);
  assert.deepEqual((await readdir(volume)).sort(), ['only-in-image', 'relative-link']);
  // Links inside are copied as links, not followed.
  assert.ok((await lstat(join(volume, 'relative-link'))).isSymbolicLink());
});

test('nothing to copy when the image has no folder there (or a file)', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'berth-copyup-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  await mkdir(join(base, 'rootfs'));
  await mkdir(join(base, 'volume'));
  await writeFile(join(base, 'rootfs/file'), 'x');
  assert.equal(await copyUp(join(base, 'rootfs'), '/missing', join(base, 'volume')), false);
  assert.equal(await copyUp(join(base, 'rootfs'), '/file', join(base, 'volume')), false);
  assert.deepEqual(await readdir(join(base, 'volume')), []);
});
