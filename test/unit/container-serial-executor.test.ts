import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialExecutor } from '../../src/engine/containers/serial-executor.js';
import { planMounts, type MountSource } from '../../src/engine/containers/mount-plan.js';
import type { ContainerRecord } from '../../src/engine/containers/model.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

test('jobs of one key run one at a time in order, a failed one does not stop the next; other keys run alongside', async () => {
  const executor = new SerialExecutor();
  const log: string[] = [];
  const job = (name: string, fail = false) => async () => {
    log.push(`${name} begins`);
    await tick();
    log.push(`${name} ends`);
    if (fail) throw new Error(name);
    return name;
  };
  const a1 = executor.run('a', job('a1', true));
  const a2 = executor.run('a', job('a2'));
  const b1 = executor.run('b', job('b1'));
  await assert.rejects(a1, /a1/);
  assert.equal(await a2, 'a2');
  assert.equal(await b1, 'b1');
  assert.deepEqual(log.filter((l) => l.startsWith('a')), ['a1 begins', 'a1 ends', 'a2 begins', 'a2 ends']);
  assert.ok(log.indexOf('b1 begins') < log.indexOf('a1 ends'), 'b ran alongside a');
});

test('drain waits for jobs queued by jobs', async () => {
  const executor = new SerialExecutor();
  let done = false;
  void executor.run('a', async () => {
    await tick();
    void executor.run('b', async () => {
      await tick();
      done = true;
    });
  });
  await executor.drain();
  assert.equal(done, true);
});

test('the mount plan puts parents before what is mounted below them and keeps each source\'s order', () => {
  const record = { hostnamePath: '/c/hostname', hostsPath: '/c/hosts', resolvConfPath: '/c/resolv.conf' } as ContainerRecord;
  const deep: MountSource = () => [{ destination: '/data/sub', source: '/v2', type: 'bind', options: [], origin: 'generated-file' }];
  const shallow: MountSource = () => [{ destination: '/data', source: '/v1', type: 'bind', options: [], origin: 'generated-file' }];
  const plan = planMounts(record, [], [deep, shallow]);
  assert.deepEqual(plan.map((m) => m.destination), ['/data', '/data/sub']);
  assert.deepEqual(planMounts(record).map((m) => m.destination), ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
  // A bind of the user's own /etc/hosts replaces the generated one (moby).
  const own = planMounts(record, [{ destination: '/etc/hosts', source: '/mine', type: 'bind', options: [], origin: 'bind' }]);
  assert.deepEqual(own.map((m) => [m.destination, m.source]), [['/etc/hostname', '/c/hostname'], ['/etc/resolv.conf', '/c/resolv.conf'], ['/etc/hosts', '/mine']]);
});
