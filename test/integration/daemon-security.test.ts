import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTHD } from '../helpers/berthd.js';
import { rawRequest } from '../helpers/http.js';

const run = promisify(execFile);

describe('berthd: state roots, data root lock and socket access', { timeout: 60_000 }, () => {
  let base: string;
  const children: ChildProcess[] = [];
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'berth-sec-'));
    await writeFile(join(base, 'daemon.json'), '{}');
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await rm(base, { recursive: true, force: true });
  });

  /** berthd arguments for instance `name`, on the data root `data` (shared when equal). */
  const args = (name: string, data: string, extra: string[] = []) => [
    BERTHD,
    '--config-file', join(base, 'daemon.json'),
    '-H', `unix://${join(base, `${name}.sock`)}`,
    '--data-root', join(base, data),
    '--exec-root', join(base, `${name}-exec`),
    '-p', join(base, `${name}.pid`),
    '-s', 'vfs',
    ...extra,
  ];

  async function startBerthd(name: string, data: string, extra: string[] = []): Promise<ChildProcess> {
    const child = spawn(process.execPath, args(name, data, extra), { stdio: 'ignore' });
    children.push(child);
    const socket = join(base, `${name}.sock`);
    for (let i = 0; i < 200 && !existsSync(socket) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal((await rawRequest(socket, 'GET', '/_ping')).status, 200);
    return child;
  }

  async function stopBerthd(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  test('an existing data root and exec root open to others are tightened at start', async () => {
    await mkdir(join(base, 'open-data'), { mode: 0o755 });
    await mkdir(join(base, 'open-exec'), { mode: 0o777 });
    await chmod(join(base, 'open-data'), 0o755);
    await chmod(join(base, 'open-exec'), 0o777);
    const child = await startBerthd('open', 'open-data');
    try {
      assert.equal((await stat(join(base, 'open-data'))).mode & 0o7777, 0o710);
      assert.equal((await stat(join(base, 'open-exec'))).mode & 0o7777, 0o700);
    } finally {
      await stopBerthd(child);
    }
  });

  test('a second berthd on the same data root is refused, whatever its pidfile; the lock dies with its holder', async () => {
    const first = await startBerthd('first', 'shared');
    try {
      const second = await run(process.execPath, args('second', 'shared')).catch((err) => err);
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`data root .*shared is in use by another berthd \\(process ${first.pid}\\)`));
      assert.ok(!existsSync(join(base, 'second.sock')), 'the refused daemon made no socket');
    } finally {
      await stopBerthd(first, 'SIGKILL');
    }
    // Killed without a chance to clean up: the kernel dropped the lock, so the data root is free.
    await stopBerthd(await startBerthd('third', 'shared'));
  });

  test('-G: the socket belongs to root and that group, mode 0660; an unknown group is refused', async () => {
    const daemonGid = Number((await readFile('/etc/group', 'utf8')).match(/^daemon:[^:]*:(\d+):/m)![1]);
    const child = await startBerthd('grouped', 'grouped-data', ['-G', 'daemon']);
    try {
      const socket = await stat(join(base, 'grouped.sock'));
      assert.equal(socket.uid, 0);
      assert.equal(socket.gid, daemonGid);
      assert.equal(socket.mode & 0o777, 0o660);
    } finally {
      await stopBerthd(child);
    }
    // The socket in the 0700 exec root, as by default: the group may enter, nobody else.
    const inExecRoot = join(base, 'inner-exec', 'api.sock');
    await chmod(base, 0o711);
    const inner = spawn(process.execPath, [...args('inner', 'inner-data', ['-G', 'daemon']).map((a) => a.replace(`unix://${join(base, 'inner.sock')}`, `unix://${inExecRoot}`))], { stdio: 'ignore' });
    children.push(inner);
    try {
      for (let i = 0; i < 200 && !existsSync(inExecRoot); i++) await new Promise((r) => setTimeout(r, 25));
      const execRoot = await stat(join(base, 'inner-exec'));
      assert.equal(execRoot.gid, daemonGid);
      assert.equal(execRoot.mode & 0o777, 0o710);
      const ping = (gid: string) => run('setpriv', ['--reuid', '65534', '--regid', gid, '--clear-groups', 'curl', '-s', '--unix-socket', inExecRoot, 'http://x/_ping']).then((r) => r.stdout, (err) => `failed: ${err.code}`);
      assert.equal(await ping(String(daemonGid)), 'OK', 'a member of the socket group uses the API');
      assert.match(await ping('65534'), /^failed/, 'anybody else cannot');
    } finally {
      await chmod(base, 0o700);
      await stopBerthd(inner);
    }

    const numeric = await startBerthd('numeric', 'numeric-data', ['--group', '4242']);
    try {
      assert.equal((await stat(join(base, 'numeric.sock'))).gid, 4242);
    } finally {
      await stopBerthd(numeric);
    }
    const unknown = await run(process.execPath, args('unknown', 'unknown-data', ['-G', 'no-such-group'])).catch((err) => err);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /group no-such-group not found/);
  });
});
