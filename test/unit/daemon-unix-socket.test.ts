import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenUnix, socketGroupId } from '../../src/daemon/unix-socket.js';

test('the socket never exists with a wider mode than 0660, even under umask 000', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-sock-'));
  const path = join(dir, 'custom', 'api.sock');
  const server = createServer();
  const previous = process.umask(0);
  try {
    let modeAtBind = -1;
    // 'listening' comes right after bind(), before listenUnix gets to chmod.
    server.once('listening', () => (modeAtBind = statSync(path).mode & 0o777));
    await listenUnix(server, path, 0);
    assert.equal(modeAtBind, 0o600);
    assert.equal((await stat(path)).mode & 0o777, 0o660);
    assert.equal(process.umask(), 0, 'the daemon umask is restored after the bind');
  } finally {
    process.umask(previous);
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});

test('the socket group: a number as given, a name from /etc/group, root when berth does not exist', async () => {
  assert.equal(await socketGroupId('4242'), 4242);
  assert.equal(await socketGroupId('root'), 0);
  await assert.rejects(socketGroupId('no-such-group'), /group no-such-group not found/);
  assert.equal(await socketGroupId(undefined), 0, 'this machine has no berth group');
});
