/** The content store keeps every layer blob as received, and collects it when no image uses it. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { buildTar } from '../unit/archive-fixtures.js';

const run = promisify(execFile);
const DOCKER = '/usr/local/bin/docker';

describe('layer blobs in the content store', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  let work: string;
  const docker = async (args: string[]) => (await run(DOCKER, args, { env: daemon.env })).stdout.trim();
  const blobPath = (digest: string) => join(daemon.dataRoot, 'content', 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

  before(async () => {
    daemon = await startDaemon();
    work = await mkdtemp(join(tmpdir(), 'berth-blobs-'));
  });
  after(async () => {
    await daemon?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('docker import keeps a gzip and a plain tar byte for byte, and rmi collects them', async () => {
    const entries = [{ name: 'etc/', type: 'directory' as const }, { name: 'etc/motd', content: 'kept as sent\n' }];
    const plain = await buildTar(entries);
    const gzipped = await buildTar([...entries, { name: 'gz', content: 'x'.repeat(5000) }], { gzip: true });
    await writeFile(join(work, 'layer.tar'), plain);
    await writeFile(join(work, 'layer.tar.gz'), gzipped);
    const plainId = await docker(['import', join(work, 'layer.tar'), 'blobs:plain']);
    const gzipId = await docker(['import', join(work, 'layer.tar.gz'), 'blobs:gzip']);

    for (const [data, id, mediaType] of [
      [plain, plainId, 'application/vnd.oci.image.layer.v1.tar'],
      [gzipped, gzipId, 'application/vnd.oci.image.layer.v1.tar+gzip'],
    ] as const) {
      assert.deepEqual(await readFile(blobPath(sha256(data))), data);
      assert.ok(existsSync(blobPath(id)), 'the config blob');
      const meta = JSON.parse(await readFile(join(daemon.dataRoot, 'image', 'images', `${id.slice(7)}.json`), 'utf8'));
      const diffIds = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', id]));
      assert.deepEqual(meta.layerBlobs, [{ digest: sha256(data), size: data.length, diffId: diffIds[0], mediaType }]);
    }

    await docker(['rmi', 'blobs:gzip']);
    assert.equal(existsSync(blobPath(sha256(gzipped))), false);
    assert.equal(existsSync(blobPath(gzipId)), false);
    assert.ok(existsSync(blobPath(sha256(plain))));

    // A blob no image refers to (as a crash mid-import leaves) goes at the next start.
    const stray = Buffer.from('stray');
    await writeFile(blobPath(sha256(stray)), stray);
    await daemon.restart();
    assert.equal(existsSync(blobPath(sha256(stray))), false);
    assert.ok(existsSync(blobPath(sha256(plain))), 'a referenced blob survives the restart');
    await docker(['rmi', 'blobs:plain']);
    assert.equal(existsSync(blobPath(sha256(plain))), false);
  });

  test('a failed import keeps no blob and no layer', async () => {
    const blobs = join(daemon.dataRoot, 'content', 'blobs', 'sha256');
    const before = await readdir(blobs);
    const gzipped = await buildTar([{ name: 'big', content: Buffer.alloc(300_000, 3) }], { gzip: true });
    const broken: Array<[string, Buffer]> = [
      ['garbage.tar', Buffer.alloc(4096, 'not a tar ')],
      ['truncated.tar.gz', gzipped.subarray(0, gzipped.length - 100)],
      // Refused while most of it is still on its way: both branches of the tee must stop.
      ['long-garbage.tar', Buffer.alloc(64 << 20, 'not a tar ')],
    ];
    for (const [name, data] of broken) {
      await writeFile(join(work, name), data);
      await assert.rejects(docker(['import', join(work, name), 'blobs:broken']), /invalid|unexpected end|layer/i);
    }
    assert.deepEqual(await readdir(blobs), before);
    assert.deepEqual(await readdir(join(daemon.dataRoot, 'content', 'ingest')), []);
    assert.deepEqual(await readdir(join(daemon.dataRoot, 'layers', 'layers')), []);
  });
});
