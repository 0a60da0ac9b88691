/** daemon.json's `runtimes` key, read as dockerd reads it. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeConfig, readConfigFile } from '../../src/daemon/config.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-daemon-json-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function read(json: unknown): Promise<ReturnType<typeof readConfigFile>> {
  const path = join(dir, 'daemon.json');
  await writeFile(path, JSON.stringify(json));
  return readConfigFile(path, true);
}

test('runtimes: a path and runtime arguments per name, none by default', async () => {
  const file = await read({
    'default-runtime': 'fast',
    runtimes: { fast: { path: '/usr/bin/crun', runtimeArgs: ['--debug'] }, plain: { path: 'runc' } },
  });
  const config = mergeConfig(file, {});
  assert.equal(config.defaultRuntime, 'fast');
  assert.deepEqual(config.runtimes, {
    fast: { path: '/usr/bin/crun', runtimeArgs: ['--debug'] },
    plain: { path: 'runc', runtimeArgs: [] },
  });
  assert.deepEqual(mergeConfig({}, {}).runtimes, {});
});

test('malformed runtimes are refused when the daemon starts', async () => {
  await assert.rejects(read({ runtimes: [] }), /runtimes must be an object/);
  await assert.rejects(read({ runtimes: { x: {} } }), /runtime x needs a "path"/);
  await assert.rejects(read({ runtimes: { x: { path: '/bin/x', runtimeArgs: '--debug' } } }), /runtimeArgs of runtime x must be a list of strings/);
  await assert.rejects(read({ runtimes: { x: { path: '/bin/x', shim: 'io.containerd.runc.v2' } } }), /runtime x: unsupported option shim/);
});

test('cgroup-parent: /berth by default, from daemon.json or the flag; a relative or escaping path is refused', async () => {
  assert.equal(mergeConfig({}, {}).cgroupParent, '/berth');
  assert.equal(mergeConfig({}, { cgroupParent: '/ci/berth-1' }).cgroupParent, '/ci/berth-1');
  assert.equal(mergeConfig(await read({ 'cgroup-parent': '/tenant.a' }), {}).cgroupParent, '/tenant.a');
  for (const bad of ['berth', '/a/../..', '/', '/a b']) {
    assert.throws(() => mergeConfig({}, { cgroupParent: bad }), /invalid cgroup-parent/);
  }
});
