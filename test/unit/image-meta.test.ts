import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeCommitConfig } from '../../src/engine/images/commit-service.js';
import { imageHistory } from '../../src/engine/images/image-history.js';
import type { Image } from '../../src/engine/images/image-store.js';
import { withParentFolders, type LayerChange } from '../../src/storage/changes.js';
import { bytePathOf } from '../../src/common/byte-path.js';
import { DiskUsage, diskUsageTypes } from '../../src/engine/system/disk-usage.js';
import { isKind } from '../../src/common/errors.js';

function image(id: string, overrides: Partial<Image> = {}): Image {
  return {
    id,
    config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
    chainIds: [],
    size: 0,
    layerBlobs: [],
    ...overrides,
  };
}

test('a commit config fills what it leaves empty from the container, as moby merge() does', () => {
  const container = {
    User: 'app',
    Env: ['PATH=/bin', 'A=1'],
    Cmd: ['sh'],
    Entrypoint: null,
    Labels: { a: '1', b: '2' },
    ExposedPorts: { '80/tcp': {} },
    Volumes: { '/v': {} },
    WorkingDir: '/w',
    StopSignal: 'SIGTERM',
  };
  assert.deepEqual(mergeCommitConfig({ Env: ['A=2'], Labels: { b: '3' }, ExposedPorts: { '443/tcp': {} } }, container), {
    User: 'app',
    Env: ['A=2', 'PATH=/bin'],
    Cmd: ['sh'],
    Entrypoint: null,
    Labels: { a: '1', b: '3' },
    ExposedPorts: { '80/tcp': {}, '443/tcp': {} },
    Volumes: { '/v': {} },
    WorkingDir: '/w',
    StopSignal: 'SIGTERM',
  });
  // An entrypoint of its own keeps the config's (empty) Cmd: the container's would run as arguments.
  assert.deepEqual(mergeCommitConfig({ Entrypoint: ['/run'] }, container).Cmd, undefined);
});

test('history: newest first, sizes of the layers entries made, ids along the parents known', () => {
  const base = image('sha256:base', {
    chainIds: ['c1'],
    config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['d1'] }, history: [{ created: '2026-01-01T00:00:00Z', comment: 'imported' }] },
  });
  const child = image('sha256:child', {
    parent: 'sha256:base',
    chainIds: ['c1', 'c2'],
    config: {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: ['d1', 'd2'] },
      history: [
        { created: '2026-01-01T00:00:00Z', comment: 'imported' },
        { created: '2026-01-02T00:00:00Z', created_by: 'sh -c true', empty_layer: true },
        { created: '2026-01-03T00:00:00Z', created_by: 'sh -c make', comment: 'built' },
      ],
    },
  });
  const items = imageHistory(child, {
    byId: (id) => (id === base.id ? base : undefined),
    repoTags: (id) => (id === child.id ? ['app:1'] : []),
    layerSize: (chainId) => ({ c1: 100, c2: 20 })[chainId]!,
  });
  assert.deepEqual(
    items.map((item) => [item.id, item.created, item.createdBy, item.size, item.comment, item.tags]),
    [
      ['sha256:child', 1767398400, 'sh -c make', 20, 'built', ['app:1']],
      ['sha256:base', 1767312000, 'sh -c true', 0, '', []],
      ['<missing>', 1767225600, '', 100, 'imported', []],
    ],
  );
});

test('a layer tar lists every folder above a changed entry, once, before it', () => {
  const changes: LayerChange[] = [
    { path: bytePathOf('/etc/passwd'), kind: 'C', opaque: false },
    { path: bytePathOf('/usr/local/bin/x'), kind: 'A', opaque: false },
    { path: bytePathOf('/usr/local/bin/y'), kind: 'D', opaque: false },
    { path: bytePathOf('/top'), kind: 'A', opaque: false },
  ];
  assert.deepEqual(
    withParentFolders(changes).map((change) => `${change.kind} ${change.path}`),
    ['C /etc', 'C /etc/passwd', 'C /usr', 'C /usr/local', 'C /usr/local/bin', 'A /usr/local/bin/x', 'D /usr/local/bin/y', 'A /top'],
  );
});

test('disk usage: a layer two images share counts once, and as shared in each; unknown types are refused', async () => {
  const a = image('sha256:a', { chainIds: ['base', 'a'] });
  const b = image('sha256:b', { chainIds: ['base', 'b'] });
  const usage = new DiskUsage({
    images: () => [{ image: a, repoTags: ['a:1'] }, { image: b, repoTags: [] }],
    layerSize: (chainId) => ({ base: 1000, a: 10, b: 1 })[chainId]!,
    containers: () => [],
    containerSizes: async () => ({ sizeRw: 0, sizeRootFs: 0 }),
  });
  const report = await usage.report(diskUsageTypes([]));
  assert.equal(report.layersSize, 1011);
  assert.deepEqual(report.images!.map((i) => i.sharedSize), [1000, 1000]);
  assert.deepEqual(report.volumes, []);
  assert.deepEqual(report.buildCache, []);
  const imagesOnly = await usage.report(diskUsageTypes(['image']));
  assert.equal(imagesOnly.containers, undefined);
  assert.throws(() => diskUsageTypes(['nope']), (err) => isKind(err, 'invalid-parameter') && /unknown object type: nope/.test((err as Error).message));
});
