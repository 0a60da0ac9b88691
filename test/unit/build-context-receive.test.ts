/**
 * Receiving a build context against the body a kept root was unpacked from: the same bytes are
 * recognised without writing anything, whatever the chunking; any difference (a changed byte
 * anywhere, a shorter or a longer body) leaves the whole new body in the spool, its agreeing
 * prefix copied from the earlier body.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { receiveContext } from '../../src/engine/build/context-receive.js';

const scratch = await mkdtemp(join(tmpdir(), 'berth-context-receive-'));
after(() => rm(scratch, { recursive: true, force: true }));

// More than two of the receiver's 1 MiB blocks, and not a multiple of them.
const earlierBytes = randomBytes(2 * 1024 * 1024 + 12345);
const earlier = join(scratch, 'earlier.tar');
await writeFile(earlier, earlierBytes);

/** `bytes` as a body in chunks of `size` bytes (the last one shorter). */
function body(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return Readable.from(chunks);
}

let spools = 0;
const spoolPath = () => join(scratch, `spool-${spools++}.tar`);
const exists = (path: string) => access(path).then(() => true, () => false);

test('the same bytes, in any chunking, are recognised and nothing is written', async () => {
  for (const size of [1000, 4096, 65536, 1024 * 1024 + 7, earlierBytes.length]) {
    const spool = spoolPath();
    assert.equal(await receiveContext(body(earlierBytes, size), earlier, spool), true, `chunks of ${size}`);
    assert.equal(await exists(spool), false);
  }
});

test('a difference anywhere leaves the whole new body in the spool', async () => {
  for (const at of [0, 70_000, 1024 * 1024 - 1, 1024 * 1024, 2 * 1024 * 1024 + 12344]) {
    const changed = Buffer.from(earlierBytes);
    changed[at] = changed[at]! ^ 0xff;
    const spool = spoolPath();
    assert.equal(await receiveContext(body(changed, 65536), earlier, spool), false, `changed at ${at}`);
    assert.ok((await readFile(spool)).equals(changed), `changed at ${at}`);
  }
});

test('a body shorter or longer than the earlier one is spooled whole', async () => {
  for (const bytes of [earlierBytes.subarray(0, 1024 * 1024 + 5), Buffer.concat([earlierBytes, Buffer.from('more')]), Buffer.alloc(0)]) {
    const spool = spoolPath();
    assert.equal(await receiveContext(body(bytes, 50_000), earlier, spool), false);
    assert.ok((await readFile(spool)).equals(bytes), `${bytes.length} bytes`);
  }
});

test('with no earlier body, or one gone, the body is spooled', async () => {
  for (const gone of [undefined, join(scratch, 'no-such.tar')]) {
    const spool = spoolPath();
    assert.equal(await receiveContext(body(earlierBytes, 100_000), gone, spool), false);
    assert.ok((await readFile(spool)).equals(earlierBytes));
  }
});

test('a body that fails midway leaves no spool', async () => {
  const spool = spoolPath();
  const failing = Readable.from((async function* () {
    yield randomBytes(3 * 1024 * 1024);
    throw new Error('client went away');
  })());
  await assert.rejects(receiveContext(failing, earlier, spool), /client went away/);
  assert.equal(await exists(spool), false);
});
