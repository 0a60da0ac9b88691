import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot } from '../../src/runtime/scoped-path.js';
import { resolveUser } from '../../src/runtime/user.js';

let base: string;
let rootfs: string;

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice:/home/alice:/bin/sh',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'daemon:x:1:', 'alice:x:1000:', 'wheel:x:10:alice,bob', 'audio:x:29:alice', ''].join('\n');

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-user-'));
  rootfs = join(base, 'rootfs');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(join(rootfs, 'etc/passwd'), PASSWD);
  await writeFile(join(rootfs, 'etc/group'), GROUP);
});
after(() => rm(base, { recursive: true, force: true }));

test("'' is root, with root's home", async () => {
  assert.deepEqual(await resolveUser(rootfs, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/root' });
});

test('a name gets its uid, primary gid and supplementary groups', async () => {
  assert.deepEqual(await resolveUser(rootfs, 'alice'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29], home: '/home/alice' });
});

test('a numeric uid need not be in passwd', async () => {
  assert.deepEqual(await resolveUser(rootfs, '1000'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29], home: '/home/alice' });
  assert.deepEqual(await resolveUser(rootfs, '4242'), { uid: 4242, gid: 0, additionalGids: [0], home: '/' });
});

test('uid:gid, name:group and uid:groupname set the group and drop supplementary ones', async () => {
  assert.deepEqual(await resolveUser(rootfs, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [4343], home: '/' });
  assert.deepEqual(await resolveUser(rootfs, 'alice:wheel'), { uid: 1000, gid: 10, additionalGids: [10], home: '/home/alice' });
  assert.deepEqual(await resolveUser(rootfs, '1:audio'), { uid: 1, gid: 29, additionalGids: [29], home: '/usr/sbin' });
});

test('unknown names are invalid parameters with moby’s message', async () => {
  await assert.rejects(resolveUser(rootfs, 'mallory'), {
    kind: 'invalid-parameter',
    message: 'unable to find user mallory: no matching entries in passwd file',
  });
  await assert.rejects(resolveUser(rootfs, 'alice:nogroup'), {
    kind: 'invalid-parameter',
    message: 'unable to find group nogroup: no matching entries in group file',
  });
});

test('without /etc/passwd numeric users still work and names do not', async (t) => {
  const empty = join(base, 'empty');
  await mkdir(empty);
  t.after(() => rm(empty, { recursive: true }));
  assert.deepEqual(await resolveUser(empty, '123:456'), { uid: 123, gid: 456, additionalGids: [456], home: '/' });
  await assert.rejects(resolveUser(empty, 'alice'), { message: 'unable to find user alice: no matching entries in passwd file' });
});

test('a hostile /etc/passwd symlink stays inside the rootfs', async (t) => {
  // Outside the rootfs, where the link would lead if followed by the host.
  await mkdir(join(base, 'etc'), { recursive: true });
  await writeFile(join(base, 'etc/shadow'), 'mallory:x:0:0::/:/bin/sh\n');
  const hostile = join(base, 'hostile');
  await mkdir(join(hostile, 'etc'), { recursive: true });
  t.after(() => rm(hostile, { recursive: true }));
  await symlink('/../../etc/shadow', join(hostile, 'etc/passwd'));
  await symlink('../../../../../../etc/shadow', join(hostile, 'etc/group'));
  await writeFile(join(hostile, 'shadow'), 'not read\n');

  assert.equal(await resolveInRoot(hostile, '/etc/passwd'), join(hostile, 'etc/shadow'));
  assert.equal(await resolveInRoot(hostile, '/etc/group'), join(hostile, 'etc/shadow'));
  // The link resolves to a missing file inside the rootfs, so the name is unknown.
  await assert.rejects(resolveUser(hostile, 'mallory'), { kind: 'invalid-parameter' });
  // Now put a file where the confined link lands: that is what gets read.
  await writeFile(join(hostile, 'etc/shadow'), 'inside:x:77:77::/inside:/bin/sh\n');
  assert.deepEqual(await resolveUser(hostile, 'inside'), { uid: 77, gid: 77, additionalGids: [77], home: '/inside' });
});

test('links inside the rootfs are followed relative to their folder, and loops end', async (t) => {
  const linked = join(base, 'linked');
  await mkdir(join(linked, 'real'), { recursive: true });
  t.after(() => rm(linked, { recursive: true }));
  await symlink('real', join(linked, 'etc'));
  await writeFile(join(linked, 'real/passwd'), 'bob:x:5:6::/b:/bin/sh\n');
  assert.equal((await resolveUser(linked, 'bob')).uid, 5);
  await symlink('loop', join(linked, 'loop'));
  await assert.rejects(resolveInRoot(linked, '/loop/x'), { kind: 'invalid-parameter' });
});

test('a FIFO planted as /etc/passwd is refused instead of blocking', async (t) => {
  const fifoRoot = join(base, 'fifo');
  await mkdir(join(fifoRoot, 'etc'), { recursive: true });
  t.after(() => rm(fifoRoot, { recursive: true }));
  execFileSync('mkfifo', [join(fifoRoot, 'etc/passwd')]);
  await assert.rejects(resolveUser(fifoRoot, 'alice'), { kind: 'invalid-parameter', message: /not a regular file/ });
});
