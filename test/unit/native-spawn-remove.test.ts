import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mount, MNT_DETACH, removeTree, spawnDetached, umount2, waitExit } from '../../src/native/index.js';

const exists = (path: string) => access(path).then(() => true, () => false);

function readToEnd(fd: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    new Socket({ fd, readable: true, writable: true })
      .on('data', (chunk: Buffer) => (text += chunk.toString()))
      .once('end', () => resolve(text))
      .once('error', reject);
  });
}

describe('spawnDetached and waitExit', () => {
  test('a child in its own session, default signals, /dev/null stdio and socket pairs from fd 2 on', async () => {
    const script = [
      'read line <&4',
      // ps-free checks: the session id (field 6 of /proc/self/stat) is the shell's own pid; SIGPIPE is not ignored (SigIgn mask bit 13).
      'echo "$line sid=$(cut -d" " -f6 /proc/$$/stat) pid=$$ sigign=$(grep SigIgn /proc/$$/status | cut -f2) cwd=$(pwd)" >&3',
      'echo complaint >&2',
      'exit 7',
    ].join('\n');
    const child = spawnDetached('/bin/sh', ['-c', script], { PATH: '/usr/bin:/bin', X: '1' }, '/tmp', 3);
    assert.equal(child.fds.length, 3);
    const [stderrFd, outFd, inFd] = child.fds;
    const stderr = readToEnd(stderrFd);
    const out = readToEnd(outFd);
    const input = new Socket({ fd: inFd, readable: true, writable: true });
    input.end('hello\n');
    assert.equal(await waitExit(child.pid), 7);
    const fields = Object.fromEntries((await out).trim().split(' ').slice(1).map((kv) => kv.split('=')));
    assert.equal((await out).split(' ')[0], 'hello');
    assert.equal(fields.sid, fields.pid);
    assert.equal(BigInt(`0x${fields.sigign}`) & (1n << 12n), 0n, `SIGPIPE ignored: ${fields.sigign}`);
    assert.equal(fields.cwd, '/tmp');
    assert.equal(await stderr, 'complaint\n');
    input.destroy();
  });

  test('a child ended by a signal gives null; a program that does not exist throws ENOENT', async () => {
    const child = spawnDetached('/bin/sh', ['-c', 'kill -9 $$'], {}, '/', 0);
    assert.equal(await waitExit(child.pid), null);
    assert.throws(() => spawnDetached('/no/such/program', [], {}, '/', 1), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
  });
});

describe('removeTree', () => {
  test('removes a tree; a symlink goes, not what it points to; a missing path is no error', async () => {
    const base = await mkdtemp(join(tmpdir(), 'berth-rmtree-'));
    try {
      const outside = join(base, 'outside');
      await mkdir(outside);
      await writeFile(join(outside, 'keep'), 'kept');
      const tree = join(base, 'tree');
      await mkdir(join(tree, 'a/b/c'), { recursive: true });
      await writeFile(join(tree, 'a/b/c/file'), 'x');
      await writeFile(join(tree, 'top'), 'y');
      await symlink(outside, join(tree, 'a/link'));
      await removeTree(tree);
      assert.equal(await exists(tree), false);
      assert.equal(await readFile(join(outside, 'keep'), 'utf8'), 'kept');
      await removeTree(tree);
      await removeTree(join(outside, 'keep'));
      assert.equal(await exists(join(outside, 'keep')), false);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  test('does not enter another mount inside the tree: the folder holding it fails with ENOTEMPTY and its files stay', async () => {
    const base = await mkdtemp(join(tmpdir(), 'berth-rmtree-'));
    const mountPoint = join(base, 'tree/mnt');
    try {
      await mkdir(mountPoint, { recursive: true });
      mount('tmpfs', mountPoint, 'tmpfs', 0, 'size=1m');
      await writeFile(join(mountPoint, 'inside'), 'z');
      await assert.rejects(removeTree(join(base, 'tree')), (err: NodeJS.ErrnoException) => err.code === 'ENOTEMPTY' && err.path === join(base, 'tree'));
      assert.equal(await readFile(join(mountPoint, 'inside'), 'utf8'), 'z');
    } finally {
      try {
        umount2(mountPoint, MNT_DETACH);
      } catch {
        // not mounted: the test failed before
      }
      await rm(base, { recursive: true, force: true });
    }
  });
});
