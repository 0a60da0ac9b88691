/** Runtimes from daemon.json's `runtimes` (as dockerd): a name, a binary, its global arguments. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../../src/common/errors.js';
import { createLogger } from '../../src/common/logger.js';
import { ConmonRuntimeSet } from '../../src/runtime/conmon-runtime-set.js';
import { RuntimeHarness } from './runtime-harness.js';

let harness: RuntimeHarness;
before(async () => {
  harness = await RuntimeHarness.open((execRoot) => ({
    'runc-debug': { path: 'runc', runtimeArgs: ['--debug', '--log', join(execRoot, 'runc-debug.log')] },
    'crun-abs': { path: '/usr/bin/crun' },
    broken: { path: join(execRoot, 'no-such-runtime') },
  }));
});
after(() => harness.close());

test('a configured runtime runs containers with its own arguments and its own state root', async (t) => {
  const runtime = harness.runtimes.get('runc-debug');
  assert.equal(runtime.path, '/usr/sbin/runc');
  const result = await harness.run(t, 'runc-debug', { args: ['echo', 'configured'] });
  assert.deepEqual(result, { stdout: 'configured\n', stderr: '', code: 0 });
  const log = await readFile(join(harness.execRoot, 'runc-debug.log'), 'utf8');
  assert.match(log, /level=debug/, 'runc got --debug --log from runtimeArgs');

  const container = await harness.create(t, 'crun-abs', { args: ['sleep', '100'] });
  assert.deepEqual((await harness.runtimes.get('crun-abs').list()).map((c) => c.id), [container.id]);
  assert.deepEqual(await harness.runtimes.get('crun').list(), [], 'each runtime name has its own state root');
});

test('the set lists the built-in runtimes first, then the configured ones; unknown names are refused', () => {
  assert.deepEqual(
    harness.runtimes.all().map((r) => r.name),
    ['crun', 'runc', 'runc-debug', 'crun-abs', 'broken'],
  );
  assert.equal(harness.runtimes.defaultName, 'crun');
  assert.equal(harness.runtimes.get('').name, 'crun');
  assert.throws(() => harness.runtimes.get('kata'), { kind: 'invalid-parameter', message: 'unknown or invalid runtime name: kata' });
});

test('a runtime binary that is missing fails the create cleanly (conmon exits before reading its pipes)', async (t) => {
  const err = await harness.create(t, 'broken', { args: ['true'] }).then(
    () => assert.fail('create succeeded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof BerthError);
  assert.match(err.message, /^conmon exited before the container was created: .*no-such-runtime/);
  assert.deepEqual(await harness.runtimes.get('broken').list().catch(() => []), []);
});

test('daemon.json mistakes stop the daemon with dockerd words', async () => {
  const open = (options: Partial<Parameters<typeof ConmonRuntimeSet.open>[0]>) =>
    ConmonRuntimeSet.open({ execRoot: harness.execRoot, logger: createLogger('error'), ...options });
  await assert.rejects(open({ runtimes: { runc: { path: '/usr/bin/crun' } } }), { message: "runtime name 'runc' is reserved" });
  await assert.rejects(open({ defaultRuntime: 'nope' }), { message: 'unknown or invalid runtime name: nope' });
  await assert.rejects(open({ runtimes: { x: { path: 'no-such-runtime-binary' } } }), /runtime x: executable not found/);
  const set = await open({ defaultRuntime: 'mine', runtimes: { mine: { path: '/usr/sbin/runc' } } });
  assert.equal(set.get('').name, 'mine');
});
