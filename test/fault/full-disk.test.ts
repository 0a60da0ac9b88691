/**
 * A full disk under the data root: berthd reports it as such, loses nothing, and works again as
 * soon as space is freed, across a restart too. The data root is a 24 MB tmpfs, filled by a
 * file that the test deletes to free the space.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { fillDisk, tmpfsDataRoot } from '../helpers/full-disk.js';
import { rawRequest } from '../helpers/http.js';
import { reapLeftovers, removeCgroups, settledViolations } from './invariants.js';
import { createContainer, runToEnd, startContainer } from './operations.js';

describe('a full disk under the data root', { timeout: 180_000 }, () => {
  let daemon: TestDaemon;
  let filler: string;

  before(async () => {
    daemon = await startDaemon({ prepare: tmpfsDataRoot(24) });
    filler = join(daemon.dataRoot, 'filler');
    await daemon.berth(['image', 'busybox']);
  });
  after(async () => {
    if (!daemon) return;
    await rm(filler, { force: true });
    await rm(`${filler}.last`, { force: true });
    await reapLeftovers(daemon);
    await daemon.stop(); // unmounts the tmpfs with the rest of the test's mounts
    await removeCgroups(daemon.cgroupParent);
  });

  test('create on a full disk says so, and a restart after space is freed finds everything whole', async () => {
    await fillDisk(filler);
    const res = await rawRequest(daemon.socket, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'] }));
    assert.equal(res.status, 500);
    assert.match(res.body, /no space left on device/);

    await daemon.restart(); // still full: the daemon must start anyway
    await Promise.all([rm(filler), rm(`${filler}.last`, { force: true })]);
    await daemon.restart();
    assert.deepEqual(await settledViolations(daemon), []);
    assert.equal(await runToEnd({ socket: daemon.socket }, ['sh', '-c', 'exit 5']), 5);
  });

  test('an exit while the disk is full still answers its waiters and releases the container', async () => {
    const target = { socket: daemon.socket };
    const id = await createContainer(target, 'exits-on-full-disk');
    await startContainer(target, id);
    const waited = rawRequest(daemon.socket, 'POST', `/containers/${id}/wait?condition=next-exit`);
    await fillDisk(filler);
    await rawRequest(daemon.socket, 'POST', `/containers/${id}/kill?signal=SIGKILL`);
    const answer = await waited;
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).StatusCode, 137);

    await Promise.all([rm(filler), rm(`${filler}.last`, { force: true })]);
    const inspect = JSON.parse((await rawRequest(daemon.socket, 'GET', `/containers/${id}/json`)).body);
    assert.equal(inspect.State.Running, false);
    assert.equal(inspect.State.ExitCode, 137);
    // The exit file goes once the save is retried (every 5 s): the grace must outlast one retry.
    assert.deepEqual(await settledViolations(daemon, 8000), []);
    await daemon.restart();
    const again = JSON.parse((await rawRequest(daemon.socket, 'GET', `/containers/${id}/json`)).body);
    assert.equal(again.State.ExitCode, 137, 'the exit was saved once space came back');
  });
});
