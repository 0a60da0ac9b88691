import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isKind } from '../../src/common/errors.js';
import { ContentStore } from '../../src/storage/content-store.js';
import { chainId, sha256Digest } from '../../src/storage/digest.js';
import { tempDir } from './archive-fixtures.js';

/** A stream that yields `data` in small pieces, over several ticks, like a network download. */
function slowly(data: Buffer): Readable {
  return Readable.from(
    (async function* () {
      for (let offset = 0; offset < data.length; offset += 1000) {
        await new Promise((resolve) => setImmediate(resolve));
        yield data.subarray(offset, offset + 1000);
      }
    })(),
    { objectMode: false },
  );
}

test('stores, reads, streams, lists and collects a blob', async (t) => {
  const root = await tempDir(t, 'content');
  const store = await ContentStore.open(root);
  const data = Buffer.from('{"config":true}');
  const { digest, size } = await store.put(data);
  assert.equal(digest, sha256Digest(data));
  assert.equal(size, data.length);
  assert.equal(await store.has(digest), true);
  assert.equal(await store.size(digest), data.length);
  assert.deepEqual(await store.read(digest), data);
  assert.deepEqual(Buffer.concat(await (await store.open(digest)).toArray()), data);
  assert.deepEqual(await store.list(), [digest]);
  // Blobs go only by garbage collection, once nothing refers to them.
  await store.collectGarbage(() => new Set());
  assert.equal(await store.has(digest), false);
  await assert.rejects(store.read(digest), (err) => isKind(err, 'not-found'));
});

test('rejects a digest or size mismatch and leaves nothing behind', async (t) => {
  const root = await tempDir(t, 'content');
  const store = await ContentStore.open(root);
  const data = Buffer.alloc(5000, 'a');
  const wrong = sha256Digest('something else');
  await assert.rejects(store.ingest(slowly(data), { digest: wrong }), (err) => isKind(err, 'invalid-parameter'));
  await assert.rejects(store.ingest(slowly(data), { size: 4 }), (err) => isKind(err, 'invalid-parameter'));
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
  assert.equal(await store.has(wrong), false);
});

test('rejects malformed digests', async (t) => {
  const store = await ContentStore.open(await tempDir(t, 'content'));
  for (const digest of ['sha256:abc', 'md5:' + 'a'.repeat(32), 'sha256:' + 'A'.repeat(64), 'sha256:../../etc']) {
    await assert.rejects(store.has(digest), (err) => isKind(err, 'invalid-parameter'), digest);
  }
  await assert.rejects(store.put(Buffer.from('x'), { digest: 'nope' }), (err) => isKind(err, 'invalid-parameter'));
});

test('ingests the same blob concurrently', async (t) => {
  const root = await tempDir(t, 'content');
  const store = await ContentStore.open(root);
  const data = Buffer.alloc(200_000, 'b');
  const expected = { digest: sha256Digest(data), size: data.length };
  const results = await Promise.all(Array.from({ length: 5 }, () => store.ingest(slowly(data), expected)));
  for (const result of results) assert.deepEqual(result, expected);
  assert.deepEqual(await store.read(expected.digest), data);
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
});

test('computes OCI chain IDs', () => {
  const d1 = sha256Digest('layer one');
  const d2 = sha256Digest('layer two');
  assert.equal(chainId(null, d1), d1);
  assert.equal(chainId(d1, d2), sha256Digest(`${d1} ${d2}`));
});

test('collects unreferenced blobs, keeping referenced and leased ones', async (t) => {
  const root = await tempDir(t, 'content');
  const store = await ContentStore.open(root);
  const referenced = await store.put(Buffer.from('referenced'));
  const garbage = await store.put(Buffer.from('garbage'));
  const lease = store.lease();
  const leased = await store.ingest(slowly(Buffer.alloc(3000, 'l')), {}, lease);
  const references = new Set<string>([referenced.digest]);
  const first = await store.collectGarbage(() => references);
  assert.deepEqual(first, { removed: [garbage.digest], bytes: garbage.size });
  assert.deepEqual((await store.list()).sort(), [referenced.digest, leased.digest].sort());
  lease.release();
  references.delete(referenced.digest);
  const second = await store.collectGarbage(() => references);
  assert.deepEqual(second.removed.sort(), [referenced.digest, leased.digest].sort());
  assert.deepEqual(await store.list(), []);
});

test('never collects a blob an ingest with a lease is publishing', async (t) => {
  const store = await ContentStore.open(await tempDir(t, 'content'));
  const data = Buffer.alloc(100_000, 'c');
  const lease = store.lease();
  // Collections run all through the ingest; the blob must survive every one of them.
  const ingesting = store.ingest(slowly(data), {}, lease);
  let done = false;
  void ingesting.finally(() => (done = true));
  while (!done) await store.collectGarbage(() => new Set());
  const { digest } = await ingesting;
  await store.collectGarbage(() => new Set());
  assert.equal(await store.has(digest), true);
  lease.release();
  await store.collectGarbage(() => new Set());
  assert.equal(await store.has(digest), false);
});
