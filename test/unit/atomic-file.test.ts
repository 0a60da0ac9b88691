import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeInterruptedWrites, writeFileAtomic } from '../../src/common/atomic-file.js';

test('the temporary files of writes a crash cut short are removed, and nothing else', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-atomic-'));
  try {
    await writeFileAtomic(join(dir, 'record.json'), '{}');
    // What a kill between the temporary write and the rename leaves.
    await writeFile(join(dir, '.record.json.0123456789ab.tmp'), '{"half":');
    await writeFile(join(dir, '.other.json.fedcba987654.tmp'), '');
    await writeFile(join(dir, '.hidden'), 'kept');
    await writeFile(join(dir, 'notes.tmp'), 'kept');
    await removeInterruptedWrites(dir);
    assert.deepEqual((await readdir(dir)).sort(), ['.hidden', 'notes.tmp', 'record.json']);
    await removeInterruptedWrites(join(dir, 'missing')); // a folder not made yet is fine
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
