import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../src/common/errors.js';
import type { CreateRequest, Exit } from '../../src/runtime/container-runtime.js';
import type { OciSpec } from '../../src/runtime/oci-spec.js';
import { FakeRuntimeSet } from '../helpers/fake-runtime.js';

function request(id: string): CreateRequest {
  return { id, name: id, spec: {} as OciSpec, logPath: `/logs/${id}`, tty: false, stdin: true };
}

function watched(set: FakeRuntimeSet): Exit[] {
  const exits: Exit[] = [];
  void set.watchExits((exit) => exits.push(exit));
  return exits;
}

test('the fake follows the runtime life cycle: create, start, signal, exit, delete', async () => {
  const set = new FakeRuntimeSet();
  const exits = watched(set);
  const runtime = set.get('');
  assert.equal(runtime.name, 'crun');
  const { pid } = await runtime.create(request('a'));
  assert.deepEqual(await runtime.state('a'), { status: 'created', pid });
  await assert.rejects(runtime.create(request('a')), (err: unknown) => err instanceof BerthError && err.kind === 'conflict');
  await runtime.start('a');
  assert.deepEqual(await runtime.list(), [{ id: 'a', state: { status: 'running', pid } }]);
  await assert.rejects(runtime.delete('a', { force: false }), (err: unknown) => err instanceof BerthError && err.kind === 'conflict');
  runtime.ignoreSignal('a', 15);
  await runtime.kill('a', 15);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(exits.length, 0, 'an ignored SIGTERM changes nothing');
  await runtime.kill('a', 9);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(exits.length, 1);
  assert.deepEqual([exits[0].id, exits[0].code, exits[0].oomKilled], ['a', 137, false]);
  assert.equal((await runtime.state('a'))?.status, 'stopped');
  await runtime.delete('a', { force: false });
  await runtime.delete('a', { force: true }); // unknown: nothing to do
  assert.equal(await runtime.state('a'), undefined);
  await assert.rejects(runtime.kill('a', 9), (err: unknown) => err instanceof BerthError && err.kind === 'not-found');
  assert.deepEqual(
    runtime.calls.map((c) => c.operation),
    ['create', 'state', 'create', 'start', 'list', 'delete', 'kill', 'kill', 'state', 'delete', 'delete', 'state', 'kill'],
  );
  assert.throws(() => set.get('kata'), /unknown or invalid runtime name: kata/);
});

test('exits stay pending until acknowledged and are reported to a new watcher', async () => {
  const set = new FakeRuntimeSet();
  const runtime = set.runtime('runc');
  await runtime.create(request('b'));
  await runtime.start('b');
  const finishedAt = new Date('2026-01-01T00:00:00Z');
  runtime.exit('b', 3, { oomKilled: true, finishedAt });
  const expected: Exit = { id: 'b', code: 3, finishedAt, oomKilled: true };
  assert.deepEqual(await set.pendingExit('b'), expected);
  assert.deepEqual(watched(set), [expected], 'an exit while nobody watched (a daemon restart)');
  await set.acknowledgeExit('b');
  assert.equal(await set.pendingExit('b'), undefined);
  assert.deepEqual(watched(set), []);
});

test('failures and gates are injected per operation and container', async () => {
  const set = new FakeRuntimeSet();
  const runtime = set.runtime();
  await runtime.create(request('c'));
  runtime.failNext('start', new BerthError('internal', 'boom'), 'c');
  await assert.rejects(runtime.start('c'), /boom/);
  assert.equal((await runtime.state('c'))?.status, 'created', 'a failed start changes nothing');

  // A start held at its gate while a removal goes through: the race "rm during start".
  const gate = runtime.hold('start', 'c');
  const starting = runtime.start('c');
  await gate.reached;
  await runtime.delete('c', { force: true });
  gate.release();
  await assert.rejects(starting, (err: unknown) => err instanceof BerthError && err.kind === 'not-found');
});

test('attach carries output until the run ends, and stdin into the container', async () => {
  const set = new FakeRuntimeSet();
  const runtime = set.runtime();
  await runtime.create(request('d'));
  const connection = await runtime.attach('d');
  await runtime.start('d');
  runtime.write('d', 'stdout', 'hello\n');
  runtime.write('d', 'stderr', 'oops\n');
  connection.stdin.end('input');
  runtime.exit('d', 0);
  const chunks: string[] = [];
  for await (const { stream, data } of connection.output) chunks.push(`${stream}:${data.toString()}`);
  assert.deepEqual(chunks, ['stdout:hello\n', 'stderr:oops\n']);
  assert.equal(Buffer.concat(runtime.containers.get('d')!.stdin).toString(), 'input');
  assert.equal(runtime.containers.get('d')!.stdinClosed, true);
});

test('exec, pause, update and stats', async () => {
  const set = new FakeRuntimeSet();
  const runtime = set.runtime();
  await runtime.create(request('e'));
  await runtime.start('e');
  const user = { uid: 0, gid: 0, additionalGids: [] };
  const exec = await runtime.exec('e', { execId: 'x1', args: ['true'], env: [], cwd: '/', user, tty: false, stdin: false, privileged: false });
  runtime.finishExec('x1', 7);
  assert.equal(await exec.exited, 7);
  await runtime.pause('e');
  assert.equal((await runtime.state('e'))?.status, 'paused');
  await assert.rejects(runtime.exec('e', { execId: 'x2', args: ['true'], env: [], cwd: '/', user, tty: false, stdin: false, privileged: false }));
  await runtime.resume('e');
  await runtime.update('e', { memory: { limit: 64 << 20 } });
  assert.equal((await runtime.stats('e')).memory.limit, 64 << 20);
  assert.deepEqual(set.cgroupInfo(), { version: '2', driver: 'cgroupfs', hybrid: false });
});

test('sweep deletes the containers nobody knows, in every runtime', async () => {
  const set = new FakeRuntimeSet();
  await set.runtime('crun').create(request('known'));
  await set.runtime('crun').create(request('stray1'));
  await set.runtime('runc').create(request('stray2'));
  await set.runtime('runc').start('stray2');
  assert.deepEqual((await set.sweep((id) => id === 'known')).sort(), ['stray1', 'stray2']);
  assert.deepEqual((await set.runtime('crun').list()).map((c) => c.id), ['known']);
  assert.deepEqual(await set.runtime('runc').list(), []);
});
