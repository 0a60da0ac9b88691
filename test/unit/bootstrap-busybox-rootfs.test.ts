import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { packBusyboxRootfs, writeBusyboxRootfs } from '../../src/bootstrap/busybox-rootfs.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listTar(bytes: Buffer): Promise<Map<string, tar.Headers>> {
  const headers = new Map<string, tar.Headers>();
  const extract = tar.extract();
  extract.end(bytes);
  for await (const entry of extract) {
    headers.set(entry.header.name, entry.header);
    entry.resume();
  }
  return headers;
}

test('the tar has the busybox tree, owned by root, with applet symlinks', async () => {
  const entries = await listTar(await collect(packBusyboxRootfs()));
  assert.equal(entries.get('bin/sh')?.type, 'symlink');
  assert.equal(entries.get('bin/sh')?.linkname, 'busybox');
  assert.equal(entries.get('bin/busybox')?.type, 'file');
  assert.equal(entries.get('bin/busybox')?.mode, 0o755);
  assert.equal(entries.get('tmp/')?.mode, 0o1777);
  assert.equal(entries.get('root/')?.mode, 0o700);
  assert.ok(entries.has('etc/passwd') && entries.has('etc/group'));
  for (const header of entries.values()) assert.deepEqual([header.uid, header.gid], [0, 0]);
});

test('two packs give identical bytes', async () => {
  const first = await collect(packBusyboxRootfs());
  const second = await collect(packBusyboxRootfs());
  assert.ok(first.equals(second));
});

test('packing a missing binary fails the stream', async () => {
  await assert.rejects(collect(packBusyboxRootfs('/nonexistent/busybox')));
});

test('the written tree runs busybox', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-busybox-'));
  try {
    await writeBusyboxRootfs(dir);
    assert.equal(execFileSync(join(dir, 'bin/busybox'), ['echo', 'ok'], { encoding: 'utf8' }), 'ok\n');
    assert.equal((await stat(join(dir, 'tmp'))).mode & 0o7777, 0o1777);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
