/** ExecService's rules on the fake runtime: states, 409s, clients that leave, instances that go. */
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../src/common/errors.js';
import { createLogger } from '../../src/common/logger.js';
import type { AttachClient } from '../../src/engine/containers/attach-hub.js';
import { overrideEnv, type ExecOptions } from '../../src/engine/containers/exec-config.js';
import { ExecService } from '../../src/engine/containers/exec-service.js';
import { initialState, type ContainerRecord } from '../../src/engine/containers/model.js';
import type { ContainerService } from '../../src/engine/containers/service.js';
import { markPaused, markRunning } from '../../src/engine/containers/state-machine.js';
import { EventBus, type EngineEvent } from '../../src/engine/events/event-bus.js';
import type { OciSpec } from '../../src/runtime/oci-spec.js';
import { FakeRuntimeSet, type FakeRuntime } from '../helpers/fake-runtime.js';

const ID = 'c'.repeat(64);
const options = (cmd: string[], more: Partial<ExecOptions> = {}): ExecOptions => ({
  cmd, env: [], user: '', workingDir: '', tty: false,
  attachStdin: false, attachStdout: true, attachStderr: true, privileged: false, detachKeys: '', ...more,
}); // prettier-ignore

function collector(onEnd: () => void = () => {}): AttachClient & { text: string; ended: boolean } {
  const client = {
    stdout: true,
    stderr: true,
    text: '',
    ended: false,
    write: (_stream: string, chunk: Buffer) => (client.text += chunk.toString()),
    end: () => {
      client.ended = true;
      onEnd();
    },
  };
  return client;
}

describe('ExecService', () => {
  let runtime: FakeRuntime;
  let record: ContainerRecord;
  let events: EngineEvent[];
  let execs: ExecService;
  let bus: EventBus;
  let removed: boolean;

  beforeEach(async () => {
    const runtimes = new FakeRuntimeSet();
    runtime = runtimes.runtime();
    record = {
      id: ID, name: '/box', created: '', path: 'sleep', args: [], image: 'sha256:x',
      config: { Hostname: 'box', Env: ['A=1', 'B=2'], User: '', WorkingDir: '/w', Tty: false, Labels: {} },
      hostConfig: { Runtime: '' }, state: initialState(),
    } as unknown as ContainerRecord; // prettier-ignore
    const { pid } = await runtime.create({ id: ID, name: 'box', spec: {} as OciSpec, logPath: '', tty: false, stdin: false });
    await runtime.start(ID);
    markRunning(record.state, pid);
    removed = false;
    bus = new EventBus();
    events = [];
    bus.subscribe((event) => events.push(event));
    const containers = {
      inspect: (idOrName: string) => {
        if (idOrName !== ID && idOrName !== 'box') throw new BerthError('not-found', `No such container: ${idOrName}`);
        return record;
      },
      find: (id: string) => (id === ID && !removed ? record : undefined),
      runtimeOf: () => runtime,
      publish: (action: string, r: ContainerRecord, details: Record<string, string>) => bus.publish('container', action, r.id, details),
    } as unknown as ContainerService;
    execs = new ExecService({ containers, logger: createLogger('error', () => {}) });
  });

  test('a run: the process gets the container\'s settings under the exec\'s; the client ends once the exit code is recorded', async () => {
    const exec = execs.create('box', options(['sh', '-c', 'x'], { env: ['B=3', 'A', 'C=4'], workingDir: '' }));
    let codeAtEnd: number | null = null;
    const client = collector(() => (codeAtEnd = execs.inspect(exec.id).exitCode));
    const started = await execs.start(exec.id, undefined, client);
    const fake = runtime.execs.get(exec.id)!;
    assert.deepEqual(fake.request.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=box', 'B=3', 'C=4']);
    assert.equal(fake.request.cwd, '/w');
    assert.equal(execs.inspect(exec.id).running, true);
    fake.output.write({ stream: 'stdout', data: Buffer.from('hello') });
    runtime.finishExec(exec.id, 5);
    await started.ended;
    assert.deepEqual([client.text, client.ended, codeAtEnd], ['hello', true, 5]);
    assert.deepEqual(events.map((e) => e.action), ['exec_create: sh -c x', 'exec_start: sh -c x', 'exec_die']);
    assert.equal(events[2]!.attributes.exitCode, '5');
    await assert.rejects(execs.start(exec.id, undefined), { kind: 'conflict', message: `Error: Exec command ${exec.id} has already run` });
  });

  test('a client that leaves: its output is dropped, stdin closed, the exit still recorded', async () => {
    const exec = execs.create('box', options(['cat'], { attachStdin: true }));
    const client = collector();
    const started = await execs.start(exec.id, undefined, client);
    await assert.rejects(execs.start(exec.id, undefined), { message: `Error: Exec command ${exec.id} is already running` });
    let stdinEnded = false;
    started.stdin!.on('finish', () => (stdinEnded = true));
    started.detachClient();
    runtime.execs.get(exec.id)!.output.write({ stream: 'stdout', data: Buffer.from('late') });
    runtime.finishExec(exec.id, 0);
    await started.ended;
    assert.deepEqual([client.text, stdinEnded, execs.inspect(exec.id).exitCode], ['', true, 0]);
  });

  test('Docker\'s refusals: no command, a paused or stopped container, an unknown exec', async () => {
    assert.throws(() => execs.create('box', options([])), { kind: 'invalid-parameter', message: 'No exec command specified' });
    markPaused(record.state);
    assert.throws(() => execs.create('box', options(['true'])), { kind: 'conflict', message: 'Container box is paused, unpause the container before exec' });
    record.state = initialState();
    assert.throws(() => execs.create('box', options(['true'])), { kind: 'conflict', message: `container ${ID} is not running` });
    assert.throws(() => execs.inspect('nosuch'), { kind: 'not-found', message: 'No such exec instance: nosuch' });
  });

  test('a command that cannot start records 126; instances go with their container, and idle ones are bounded', async () => {
    const failing = execs.create('box', options(['x']));
    record.state = initialState(); // stopped between create and start
    await assert.rejects(execs.start(failing.id, undefined), { kind: 'conflict' });
    assert.deepEqual([execs.inspect(failing.id).running, execs.inspect(failing.id).exitCode], [false, 126]);
    markRunning(record.state, 1);
    const made = Array.from({ length: 1030 }, () => execs.create('box', options(['true'])).id);
    assert.throws(() => execs.inspect(failing.id), { kind: 'not-found' });
    assert.throws(() => execs.inspect(made[4]!), { kind: 'not-found' });
    assert.equal(execs.inspect(made[6]!).id, made[6]);
    removed = true;
    assert.throws(() => execs.inspect(made.at(-1)!), { kind: 'not-found' });
  });

  test('env overrides replace in place, append, and unset', () => {
    assert.deepEqual(overrideEnv(['A=1', 'B=2', 'C=3'], ['B=x', 'D=4', 'A']), ['B=x', 'C=3', 'D=4']);
  });
});
