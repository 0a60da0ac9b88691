/**
 * The one test suite every StorageDriver passes. A driver's test file imports the driver's module
 * (so it registers itself) and calls runStorageDriverSuite with its name. Needs root.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isKind } from '../../src/common/errors.js';
import { storageDriverFactory, type StorageDriver } from '../../src/storage/driver.js';
import { unmountAllUnder } from '../../src/storage/mounts.js';
import { buildTar, streamOf } from '../unit/archive-fixtures.js';

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

    it('removes layers, and removing a missing one is not an error', async () => {
      for (const id of ['container', 'child', 'base']) {
        await driver.remove(id);
        assert.equal(await driver.exists(id), false);
      }
      await driver.remove('container');
    });
  });
}
