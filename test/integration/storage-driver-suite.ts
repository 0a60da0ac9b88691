/**
 * The one test suite every StorageDriver passes. A driver's test file imports the driver's module
 * (so it registers itself) and calls runStorageDriverSuite with its name. Needs root.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extract } from 'tar-stream';
import { errnoCode, isKind } from '../../src/common/errors.js';
import { storageDriverFactory, type StorageDriver } from '../../src/storage/driver.js';
import { mountPointsUnder, unmountAllUnder } from '../../src/storage/mounts.js';
import { buildTar, streamOf, tarNamesAsBytes } from '../unit/archive-fixtures.js';

const EXPECTED_CHANGES = [
  { path: '/added', kind: 'A' },
  { path: '/added/f', kind: 'A' },
  { path: '/etc', kind: 'C' },
  { path: '/etc/hosts', kind: 'D' },
  { path: '/etc/mod', kind: 'C' },
  { path: '/etc/new', kind: 'A' },
  { path: '/gone', kind: 'D' },
  { path: '/opq', kind: 'C' },
  { path: '/opq/new', kind: 'A' },
  { path: '/opq/old1', kind: 'D' },
  { path: '/opq/old2', kind: 'D' },
];

/** Names of a tar's entries. */
async function tarNames(tar: Buffer): Promise<string[]> {
  const names: string[] = [];
  const entries = extract();
  streamOf(tar).pipe(entries);
  for await (const entry of entries) {
    names.push(entry.header.name);
    entry.resume();
  }
  return names;
}

/** Every entry under `root` with its type, owner, mode and content, sorted by path. */
async function snapshot(root: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(join(root, dir))).sort()) {
      const path = join(dir, name);
      const stats = await lstat(join(root, path));
      const content = stats.isFile() ? await readFile(join(root, path), 'utf8') : stats.isSymbolicLink() ? await readlink(join(root, path)) : '';
      lines.push(`${path} ${stats.mode.toString(8)} ${stats.uid}:${stats.gid} ${content}`);
      if (stats.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return lines;
}

export function runStorageDriverSuite(driverName: string): void {
  describe(`storage driver ${driverName}`, { timeout: 180_000 }, () => {
    let root: string;
    let driver: StorageDriver;

    before(async () => {
      root = await mkdtemp(join(tmpdir(), `berth-driver-${driverName}-`));
      const factory = storageDriverFactory(driverName);
      assert.ok(factory, `driver ${driverName} is registered`);
      driver = await factory(root);
    });
    after(async () => {
      if (!root) return;
      await driver?.cleanup();
      await unmountAllUnder(root);
      await rm(root, { recursive: true, force: true });
    });

    /** Reads a layer through get/put, the way a caller would. */
    async function withRoot<T>(id: string, read: (rootfs: string) => Promise<T>): Promise<T> {
      const rootfs = await driver.get(id);
      try {
        return await read(rootfs);
      } finally {
        await driver.put(id);
      }
    }

    it('applies a base layer with files, symlinks and hard links', async () => {
      await driver.create('base', null);
      const tar = await buildTar([
        { name: 'etc/', type: 'directory' },
        { name: 'etc/hosts', content: 'hosts', uid: 7, gid: 8, mode: 0o640 },
        { name: 'etc/link', type: 'symlink', linkname: 'hosts' },
        { name: 'etc/hard', type: 'link', linkname: 'etc/hosts' },
        { name: 'opaque/', type: 'directory' },
        { name: 'opaque/old', content: 'old' },
      ]);
      const { size } = await driver.applyDiff('base', streamOf(tar));
      assert.equal(size, tar.length);
      await withRoot('base', async (rootfs) => {
        const hosts = await lstat(join(rootfs, 'etc/hosts'));
        assert.deepEqual([hosts.uid, hosts.gid, hosts.mode & 0o7777], [7, 8, 0o640]);
        assert.equal(await readlink(join(rootfs, 'etc/link')), 'hosts');
        assert.equal((await lstat(join(rootfs, 'etc/hard'))).ino, hosts.ino);
      });
    });

    it('applies a child layer whose whiteouts hide a parent file and a directory', async () => {
      await driver.create('child', 'base');
      await driver.applyDiff(
        'child',
        streamOf(
          await buildTar([
            { name: 'etc/.wh.hosts' },
            { name: 'opaque/.wh..wh..opq' },
            { name: 'opaque/new', content: 'new' },
          ]),
        ),
      );
      await withRoot('child', async (rootfs) => {
        assert.equal(existsSync(join(rootfs, 'etc/hosts')), false);
        assert.equal(await readFile(join(rootfs, 'etc/hard'), 'utf8'), 'hosts');
        assert.deepEqual(await readdir(join(rootfs, 'opaque')), ['new']);
      });
      await withRoot('base', async (rootfs) => {
        assert.equal(await readFile(join(rootfs, 'etc/hosts'), 'utf8'), 'hosts');
        assert.deepEqual(await readdir(join(rootfs, 'opaque')), ['old']);
      });
    });

    it('setParent (overlay; vfs fills a layer over its parent’s files, so has none): a layer filled with no parent is then as if made over its parent', async () => {
      assert.equal(driver.setParent !== undefined, driverName === 'overlay', 'overlay can fill a layer before its parent is known, vfs cannot');
      if (!driver.setParent) return;
      await driver.create('early', null);
      const whiteouts = await buildTar([{ name: 'etc/.wh.hosts' }, { name: 'opaque/.wh..wh..opq' }, { name: 'opaque/new', content: 'new' }]);
      await driver.applyDiff('early', streamOf(whiteouts));
      await driver.setParent('early', 'base');
      await withRoot('early', async (rootfs) => {
        assert.equal(existsSync(join(rootfs, 'etc/hosts')), false);
        assert.equal(await readFile(join(rootfs, 'etc/hard'), 'utf8'), 'hosts');
        assert.deepEqual(await readdir(join(rootfs, 'opaque')), ['new']);
      });
      assert.deepEqual(await driver.changes('early'), await driver.changes('child'));
      await assert.rejects(driver.setParent('early', 'base'), /has a parent already/);
      await driver.remove('early');
    });

    it('keeps a writable layer’s changes out of its lower layers', async () => {
      await driver.create('container', 'child', { writable: true });
      await withRoot('container', async (rootfs) => {
        assert.deepEqual(await readdir(join(rootfs, 'opaque')), ['new']);
        await writeFile(join(rootfs, 'etc/written'), 'mine');
        await writeFile(join(rootfs, 'opaque/new'), 'changed');
        await rm(join(rootfs, 'etc/hard'));
      });
      for (const lower of ['base', 'child']) {
        await withRoot(lower, async (rootfs) => {
          assert.equal(existsSync(join(rootfs, 'etc/written')), false);
          assert.equal(await readFile(join(rootfs, 'etc/hard'), 'utf8'), 'hosts');
        });
      }
      await withRoot('child', async (rootfs) => assert.equal(await readFile(join(rootfs, 'opaque/new'), 'utf8'), 'new'));
      await withRoot('container', async (rootfs) => assert.equal(await readFile(join(rootfs, 'etc/written'), 'utf8'), 'mine'));
    });

    it('counts references: the root stays usable until the last put', async () => {
      const first = await driver.get('container');
      const second = await driver.get('container');
      assert.equal(second, first);
      await driver.put('container');
      assert.equal(await readFile(join(first, 'etc/written'), 'utf8'), 'mine');
      await assert.rejects(driver.remove('container'), (err) => isKind(err, 'conflict'));
      await driver.put('container');
    });

    it('reports metadata, existence and refuses duplicates', async () => {
      const metadata = await driver.metadata('container');
      assert.ok(Object.keys(metadata).length > 0);
      for (const value of Object.values(metadata)) assert.equal(typeof value, 'string');
      assert.ok((await driver.status()).every((line) => line.length === 2));
      assert.equal(await driver.exists('container'), true);
      await assert.rejects(driver.create('container', 'child'), (err) => isKind(err, 'already-exists'));
      await assert.rejects(driver.get('missing'), (err) => isKind(err, 'not-found'));
      await assert.rejects(driver.create('x', 'missing'), (err) => isKind(err, 'not-found'));
    });

    const BASE_FILES: Array<[string, string]> = [
      ['etc/hosts', 'hosts'],
      ['etc/keep', 'keep'],
      ['etc/mod', 'short'],
      ['data/a', 'a'],
      ['data/sub/b', 'b'],
      ['gone/x', 'x'],
      ['gone/y/z', 'z'],
      ['opq/old1', 'old1'],
      ['opq/old2', 'old2'],
    ];
    const WRITTEN: Array<[string, string]> = [
      ['etc/new', 'n'.repeat(1000)],
      ['etc/mod', 'modified, and longer'],
      ['added/f', 'f'.repeat(3000)],
      ['opq/new', 'new'],
    ];

    it('lists a writable layer’s changes as docker diff does: added, changed, deleted files and directories', async () => {
      await driver.create('d-base', null);
      await driver.applyDiff('d-base', streamOf(await buildTar(BASE_FILES.map(([name, content]) => ({ name, content })))));
      await driver.create('d-c', 'd-base', { writable: true });
      await withRoot('d-c', async (rootfs) => {
        await rm(join(rootfs, 'etc/hosts'));
        await rm(join(rootfs, 'gone'), { recursive: true });
        // A directory deleted and made again: overlayfs marks it opaque.
        await rm(join(rootfs, 'opq'), { recursive: true });
        await mkdir(join(rootfs, 'opq'));
        await mkdir(join(rootfs, 'added'));
        for (const [name, content] of WRITTEN) await writeFile(join(rootfs, name), content);
      });
      assert.deepEqual(await driver.changes('d-c'), EXPECTED_CHANGES);
      assert.deepEqual(
        await driver.changes('d-base'),
        ['/data', '/data/a', '/data/sub', '/data/sub/b', '/etc', '/etc/hosts', '/etc/keep', '/etc/mod', '/gone', '/gone/x', '/gone/y', '/gone/y/z', '/opq', '/opq/old1', '/opq/old2'].map((path) => ({ path, kind: 'A' })),
      );
    });

    it('diffs a layer into an OCI tar that applyDiff turns into the same tree', async () => {
      const tar = Buffer.concat(await (await driver.diff('d-c')).toArray());
      const names = await tarNames(tar);
      assert.ok(names.includes('etc/.wh.hosts') && names.includes('.wh.gone'), names.join(' '));
      assert.ok(!names.some((name) => name.startsWith('gone/')), 'a deleted directory is one whiteout');
      assert.ok(names.includes('opq/.wh..wh..opq') || names.includes('opq/.wh.old1'), names.join(' '));
      await driver.create('d-copy', 'd-base');
      await driver.applyDiff('d-copy', streamOf(tar));
      const expected = await withRoot('d-c', snapshot);
      const view = await driver.readOnlyView('d-copy');
      try {
        assert.deepEqual(await snapshot(view), expected);
      } finally {
        await driver.put('d-copy');
      }
      assert.deepEqual(await driver.changes('d-copy'), EXPECTED_CHANGES);

      // The same tar written into a file, with the digest and size of its bytes.
      const blob = join(root, 'd-c.tar');
      const written = await driver.diffToFile('d-c', blob);
      const stored = await readFile(blob);
      assert.deepEqual(written, { digest: `sha256:${createHash('sha256').update(stored).digest('hex')}`, size: stored.length });
      assert.deepEqual(await tarNames(stored), names);
      await rm(blob);
    });

    it('mounts a read-only view of an image layer with everything under it', async () => {
      const view = await driver.readOnlyView('d-copy');
      assert.equal(await driver.readOnlyView('d-copy'), view);
      try {
        assert.equal(await readFile(join(view, 'etc/new'), 'utf8'), 'n'.repeat(1000));
        assert.equal(await readFile(join(view, 'data/sub/b'), 'utf8'), 'b');
        assert.equal(existsSync(join(view, 'etc/hosts')), false);
        await assert.rejects(writeFile(join(view, 'etc/written'), 'x'), (err) => errnoCode(err) === 'EROFS');
        await driver.put('d-copy');
        assert.ok(await mountPointsUnder(root).then((points) => points.includes(view)), 'still mounted for the second user');
        await assert.rejects(driver.remove('d-copy'), (err) => isKind(err, 'conflict'));
      } finally {
        await driver.put('d-copy');
      }
      assert.equal((await mountPointsUnder(root)).includes(view), false);
    });

    it('measures the disk use of a layer’s own changes', async () => {
      const sum = (files: Array<[string, string]>) => files.reduce((total, [, content]) => total + content.length, 0);
      const base = await driver.usage('d-base');
      assert.equal(base.size, sum(BASE_FILES));
      assert.ok(base.inodes >= BASE_FILES.length);
      const container = await driver.usage('d-c');
      assert.equal(container.size, sum(WRITTEN));
      assert.ok(container.inodes >= WRITTEN.length);
      for (const id of ['d-copy', 'd-c', 'd-base']) await driver.remove(id);
    });

    it('keeps names that are not UTF-8 as their bytes: changes, the layer tar and its whiteouts, usage', async () => {
      // Names as bytes (latin1 strings: one character a byte), written through Buffer paths.
      const at = (rootfs: string, name: string) => Buffer.concat([Buffer.from(`${rootfs}/`), Buffer.from(name, 'latin1')]);
      await driver.create('u-base', null);
      await withRoot('u-base', async (rootfs) => {
        for (const dir of ['d\xffdir', 'gonedir\xff', 'opq\xfe']) await mkdir(at(rootfs, dir));
        for (const file of ['d\xffdir/x', 'gonedir\xff/f', 'gone\xff', 'mod\xff', 'keep\xfe', 'opq\xfe/old\xff']) await writeFile(at(rootfs, file), 'base');
      });
      await driver.create('u-c', 'u-base', { writable: true });
      await withRoot('u-c', async (rootfs) => {
        await writeFile(at(rootfs, 'd\xffdir/added\x80'), 'added');
        await writeFile(at(rootfs, 'new\xff\xfe'), 'new');
        await writeFile(at(rootfs, 'mod\xff'), 'modified');
        await rm(at(rootfs, 'gone\xff'));
        await rm(at(rootfs, 'gonedir\xff'), { recursive: true });
        // Deleted and made again: overlayfs marks it opaque, its trusted.overlay.opaque read by the name's bytes.
        await rm(at(rootfs, 'opq\xfe'), { recursive: true });
        await mkdir(at(rootfs, 'opq\xfe'));
        await writeFile(at(rootfs, 'opq\xfe/new'), 'new');
      });
      const expected = [
        ['/d\xffdir', 'C'],
        ['/d\xffdir/added\x80', 'A'],
        ['/gonedir\xff', 'D'],
        ['/gone\xff', 'D'],
        ['/mod\xff', 'C'],
        ['/new\xff\xfe', 'A'],
        ['/opq\xfe', 'C'],
        ['/opq\xfe/new', 'A'],
        ['/opq\xfe/old\xff', 'D'],
      ];
      assert.deepEqual(
        (await driver.changes('u-c')).map(({ path, kind }) => [path, kind]),
        expected,
      );

      const tar = Buffer.concat(await (await driver.diff('u-c')).toArray());
      const names = tarNamesAsBytes(tar);
      for (const name of ['d\xffdir/', 'd\xffdir/added\x80', '.wh.gonedir\xff', '.wh.gone\xff', 'mod\xff', 'new\xff\xfe', 'opq\xfe/new']) {
        assert.ok(names.includes(name), `${JSON.stringify(name)} in ${JSON.stringify(names)}`);
      }
      assert.ok(names.includes('opq\xfe/.wh..wh..opq') || names.includes('opq\xfe/.wh.old\xff'), JSON.stringify(names));
      await driver.create('u-copy', 'u-base');
      await driver.applyDiff('u-copy', streamOf(tar));
      const view = await driver.readOnlyView('u-copy');
      try {
        assert.equal(await readFile(at(view, 'd\xffdir/added\x80'), 'utf8'), 'added');
        assert.equal(await readFile(at(view, 'mod\xff'), 'utf8'), 'modified');
        assert.equal(existsSync(at(view, 'gone\xff')) || existsSync(at(view, 'gonedir\xff')) || existsSync(at(view, 'opq\xfe/old\xff')), false);
        assert.equal(await readFile(at(view, 'keep\xfe'), 'utf8'), 'base');
      } finally {
        await driver.put('u-copy');
      }
      assert.deepEqual((await driver.changes('u-copy')).map(({ path, kind }) => [path, kind]), expected);
      assert.equal((await driver.usage('u-c')).size, 'added'.length + 'new'.length + 'modified'.length + 'new'.length);
      assert.equal((await driver.usage('u-base')).size, 6 * 'base'.length);
      for (const id of ['u-copy', 'u-c', 'u-base']) await driver.remove(id);
    });

    it('removes layers, and removing a missing one is not an error', async () => {
      for (const id of ['container', 'child', 'base']) {
        await driver.remove(id);
        assert.equal(await driver.exists(id), false);
      }
      await driver.remove('container');
    });
  });
}
