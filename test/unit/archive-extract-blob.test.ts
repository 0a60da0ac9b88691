/**
 * extractTar's `blob` option (berth-untar --blob): the extractor writes the blob's file as it
 * unpacks, hashes it, and hands its digest and size to `check` — after a resumed download's bytes
 * in the file, for plain and gzip blobs, and also when the tar turns out broken.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { extractTar, type BlobFile } from '../../src/archive/extract.js';
import { isKind } from '../../src/common/errors.js';
import { buildTar, streamOf, tempDir } from './archive-fixtures.js';

const sha256 = (bytes: Buffer) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}` as const;

/** A blob option whose check records what it was handed (and throws `refuse`, if given). */
function recordingBlob(path: string, refuse?: Error): BlobFile & { checked: Array<{ digest: string; size: number }> } {
  const checked: Array<{ digest: string; size: number }> = [];
  return {
    path,
    checked,
    check(blob) {
      checked.push(blob);
      if (refuse) throw refuse;
    },
  };
}

test('a blob: written to its file as it unpacks, checked with its digest and size, plain or gzip, resumed or not', async (t) => {
  const dir = await tempDir(t, 'extract-blob');
  const content = crypto.randomBytes(700_000);
  const plain = await buildTar([{ name: 'a.bin', content, mode: 0o644 }]);
  const gzipped = gzipSync(plain);
  for (const [what, blob, resumedBytes] of [
    ['plain', plain, 0],
    ['gzip', gzipped, 0],
    ['plain, resumed', plain, 300_000],
    ['gzip, resumed', gzipped, 1000],
  ] as const) {
    const dest = join(dir, 'dest');
    const path = join(dir, 'blob.partial');
    await rm(dest, { recursive: true, force: true });
    await mkdir(dest);
    // A download resumed: the file holds the first bytes, the stream gives the rest.
    await writeFile(path, blob.subarray(0, resumedBytes));
    const option = recordingBlob(path);
    const result = await extractTar(streamOf(blob.subarray(resumedBytes)), dest, { whiteouts: 'overlay', decompress: true, digest: true, blob: option });
    assert.deepEqual(result, { size: plain.length, diffId: sha256(plain) }, what);
    assert.deepEqual(option.checked, [{ digest: sha256(blob), size: blob.length }], what);
    assert.ok((await readFile(path)).equals(blob), `${what}: the file is the blob`);
    assert.ok((await readFile(join(dest, 'a.bin'))).equals(content), `${what}: the layer is unpacked`);
  }
});

test('a blob whose check refuses it fails the extraction with the check\'s error; a broken tar is checked first', async (t) => {
  const dir = await tempDir(t, 'extract-blob');
  const dest = join(dir, 'dest');
  await mkdir(dest);
  const plain = await buildTar([{ name: 'a.bin', content: crypto.randomBytes(100_000), mode: 0o644 }]);
  const mismatch = new Error('filesystem layer verification failed for digest sha256:x');
  const refused = recordingBlob(join(dir, 'refused'), mismatch);
  await assert.rejects(extractTar(streamOf(plain), dest, { whiteouts: 'overlay', decompress: true, digest: true, blob: refused }), (err) => err === mismatch);
  assert.equal(refused.checked.length, 1);

  // Bytes that are no tar at all: the blob is still read to its end and checked, so a blob that
  // does not match its digest fails as such rather than as a broken tar.
  const garbage = crypto.randomBytes(300_000);
  const corrupt = recordingBlob(join(dir, 'corrupt'), mismatch);
  await assert.rejects(extractTar(streamOf(garbage), dest, { whiteouts: 'overlay', decompress: true, digest: true, blob: corrupt }), (err) => err === mismatch);
  assert.deepEqual(corrupt.checked, [{ digest: sha256(garbage), size: garbage.length }]);
  assert.ok((await readFile(corrupt.path)).equals(garbage));

  // The blob is what its digest says, but not a tar: the tar's error.
  const accepted = recordingBlob(join(dir, 'accepted'));
  await assert.rejects(extractTar(streamOf(garbage), dest, { whiteouts: 'overlay', decompress: true, digest: true, blob: accepted }), (err) => {
    assert.ok(isKind(err, 'invalid-parameter'));
    assert.match((err as Error).message, /tar/);
    return true;
  });
  assert.equal(accepted.checked.length, 1);
});
