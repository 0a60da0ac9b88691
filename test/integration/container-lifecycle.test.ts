import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { mountsUnder, rawRequest } from '../helpers/http.js';

async function inspect(daemon: TestDaemon, name: string) {
  return JSON.parse((await daemon.berth(['inspect', name])).stdout)[0];
}

describe('container lifecycle races', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startDaemon();
    await daemon.berth(['image', 'busybox']);
  });
  after(async () => {
    await daemon?.stop();
  });

  test('rm -f of a running --rm container succeeds and leaves nothing', async () => {
    await daemon.berth(['run', '-d', '--rm', '--name', 'auto', 'busybox', 'sleep', '300']);
    const removed = await daemon.berth(['rm', '-f', 'auto'], { allowFailure: true });
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
    assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
  });

  test('two starts at once: one starts it, the other answers 304, and the container runs on', async () => {
    await daemon.berth(['create', '--name', 'twice', 'busybox', 'sleep', '300']);
    const answers = await Promise.all([1, 2].map(() => rawRequest(daemon.socket, 'POST', '/v1.50/containers/twice/start')));
    assert.deepEqual(answers.map((a) => a.status).sort(), [204, 304], JSON.stringify(answers));
    const state = (await inspect(daemon, 'twice')).State;
    assert.equal(state.Status, 'running');
    assert.equal(state.Error, '');
    await daemon.berth(['rm', '-f', 'twice']);
    assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
  });
});
