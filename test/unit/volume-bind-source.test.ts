/**
 * A bind source in the data root is staged: the object checked is the object the runtime mounts,
 * even when a container swaps the path for a link after the check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAsChecked, releaseStagedSources, stageBindSource } from '../../src/engine/volumes/bind-source.js';

async function dataRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-pin-'));
  await mkdir(join(root, 'volumes/v/_data/sub'), { recursive: true });
  await writeFile(join(root, 'volumes/v/_data/sub/mine'), 'checked\n');
  return root;
}

test('a source outside the data root is the host\'s own path, not staged', async () => {
  const root = await dataRoot();
  try {
    assert.equal(await stageBindSource('/etc', root, join(root, 'stage/0'), true), '/etc');
    await assert.rejects(readdir(join(root, 'stage')), { code: 'ENOENT' });
  } finally {
    await rm(root, { recursive: true });
  }
});

test('a staged source keeps showing the checked folder after its path is swapped for a link; release leaves nothing', async () => {
  const root = await dataRoot();
  const sub = join(root, 'volumes/v/_data/sub');
  const stage = join(root, 'stage');
  try {
    const staged = await stageBindSource(sub, root, join(stage, '0'), true);
    assert.equal(staged, join(stage, '0'));
    assert.equal(await stageBindSource(join(sub, 'mine'), root, join(stage, '1'), false), join(stage, '1'));
    await rename(sub, `${sub}.old`);
    await symlink('/etc', sub);
    assert.deepEqual(await readdir(staged), ['mine']);
    assert.equal(await readFile(join(stage, '1'), 'utf8'), 'checked\n');
    // Staged again now, the link is seen and refused.
    await assert.rejects(stageBindSource(sub, root, join(stage, '2'), true), /leads through a symbolic link in berthd's data root/);
    await releaseStagedSources(stage);
    await assert.rejects(readdir(stage), { code: 'ENOENT' });
    assert.doesNotMatch(await readFile('/proc/self/mountinfo', 'utf8'), new RegExp(root));
    assert.equal(await readFile(join(`${sub}.old`, 'mine'), 'utf8'), 'checked\n', 'the source is untouched');
  } finally {
    await releaseStagedSources(stage).catch(() => {});
    await rm(root, { recursive: true });
  }
});

test('the open itself refuses a path the kernel resolves through a link (a swap after the walk)', async () => {
  const root = await dataRoot();
  const data = join(root, 'volumes/v/_data');
  try {
    await symlink('/etc', join(data, 'link'));
    await assert.rejects(openAsChecked(join(data, 'link')), /leads through a symbolic link in berthd's data root \(it resolves to \/etc\)/);
    await assert.rejects(openAsChecked(join(data, 'link/ssl')), /it resolves to \/etc\/ssl/);
    const handle = await openAsChecked(join(data, 'sub/'));
    await handle.close();
  } finally {
    await rm(root, { recursive: true });
  }
});
