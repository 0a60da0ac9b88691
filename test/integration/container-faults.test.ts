/**
 * Issue 12's container faults, through the API on real containers: wrong-typed create bodies,
 * state file modes, kill and stop timing, sizes and what a prune reclaims.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type TestDaemon, useBusyboxDaemon } from '../helpers/berthd.js';
import { mountsUnder, rawRequest } from '../helpers/http.js';

describe('container faults (issue 12)', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  const api = (method: string, path: string, body?: unknown) =>
    rawRequest(daemon.socket, method, `/v1.50${path}`, body === undefined ? undefined : JSON.stringify(body));
  const create = async (body: Record<string, unknown>, name?: string) =>
    api('POST', `/containers/create${name ? `?name=${name}` : ''}`, { Image: 'busybox', ...body });
  const containerCount = async () => JSON.parse((await api('GET', '/containers/json?all=1')).body).length as number;

  useBusyboxDaemon((d) => (daemon = d));

  test('wrong types, out-of-range numbers and unknown capabilities are 400 at create, and nothing is created (item 5)', async () => {
    const bodies: Array<[Record<string, unknown>, RegExp]> = [
      [{ Cmd: ['true'], Labels: { a: 1 } }, /cannot unmarshal number into Go struct field CreateRequest\.Labels/],
      [{ Cmd: ['true'], Tty: 'yes' }, /cannot unmarshal string into Go struct field CreateRequest\.Tty of type bool/],
      [{ Cmd: ['true'], HostConfig: 'x' }, /CreateRequest\.HostConfig/],
      [{ Cmd: ['true'], HostConfig: { ShmSize: -1 } }, /SHM size can not be less than 0/],
      [{ Cmd: ['true'], HostConfig: { ShmSize: 'abc' } }, /HostConfig\.ShmSize of type int64/],
      [{ Cmd: ['true'], HostConfig: { ShmSize: 1e300 } }, /HostConfig\.ShmSize of type int64/],
      [{ Cmd: ['true'], HostConfig: { CapAdd: ['NOT_A_CAP'] } }, /unknown capability: "CAP_NOT_A_CAP"/],
      [{ Cmd: ['true'], HostConfig: { LogConfig: { Type: 'nosuch' } } }, /logger: no log driver named 'nosuch' is registered/],
      [{ Cmd: ['true'], MacAddress: 'zz' }, /invalid MAC address zz/],
      [{ Cmd: ['true'], StopSignal: 'SIGFOO' }, /^Invalid signal: SIGFOO$/],
      [{ Cmd: ['true'], HostConfig: { Memory: -5 } }, /^Minimum memory limit allowed is 6MB$/],
    ];
    for (const [body, message] of bodies) {
      const response = await create(body);
      assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.body}`);
      assert.match(JSON.parse(response.body).message, message);
    }
    assert.equal(await containerCount(), 0);
  });

  test('LogConfig reports json-file; bridge networking is accepted without a warning now that it is carried out (items 14, 15)', async () => {
    const response = await create({ Cmd: ['true'], HostConfig: { NetworkMode: 'bridge' } }, 'logcfg');
    assert.equal(response.status, 201, response.body);
    assert.deepEqual(JSON.parse(response.body).Warnings, []);
    const inspect = JSON.parse((await api('GET', '/containers/logcfg/json')).body);
    assert.deepEqual(inspect.HostConfig.LogConfig, { Type: 'json-file', Config: {} });
    const info = JSON.parse((await api('GET', '/info')).body);
    assert.equal(info.LoggingDriver, 'json-file', 'the driver containers report');
    assert.deepEqual(info.Plugins.Log, ['json-file']);
    await api('DELETE', '/containers/logcfg');
  });

  test('container state is root-only: folder 0700, config.v2.json 0600, also when made wider before (item 9)', async () => {
    const response = await create({ Cmd: ['true'], Env: ['DB_PASSWORD=secret'] }, 'secret');
    const { Id } = JSON.parse(response.body);
    const dir = join(daemon.dataRoot, 'containers', Id);
    const record = join(dir, 'config.v2.json');
    const modes = async () => [daemon.dataRoot, daemon.execRoot, dir, record].map(async (path) => (await stat(path)).mode & 0o777);
    assert.deepEqual(await Promise.all(await modes()), [0o710, 0o700, 0o700, 0o600]);
    // As an older berthd (or a hand-made data root) left them:
    for (const path of [daemon.dataRoot, daemon.execRoot, dir]) await chmod(path, 0o755);
    await chmod(record, 0o644);
    await daemon.restart();
    assert.deepEqual(await Promise.all(await modes()), [0o710, 0o700, 0o700, 0o600]);
    await api('DELETE', '/containers/secret');
  });

  test('kill with SIGKILL answers once the container is dead: inspect and rm right after succeed (item 13)', async () => {
    await daemon.berth(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '300']);
    assert.equal((await api('POST', '/containers/victim/kill')).status, 204);
    const state = JSON.parse((await api('GET', '/containers/victim/json')).body).State;
    assert.deepEqual([state.Status, state.Running, state.ExitCode], ['exited', false, 137]);
    assert.equal((await api('DELETE', '/containers/victim')).status, 204);
  });

  test('resize?h=-1 is a 400 (item 10)', async () => {
    await daemon.berth(['run', '-d', '--name', 'sized', 'busybox', 'sleep', '300']);
    const response = await api('POST', '/containers/sized/resize?h=-1&w=80');
    assert.equal(response.status, 400, response.body);
    const stop = await api('POST', '/containers/sized/stop?t=99999999999999999999');
    assert.equal(stop.status, 400, stop.body);
    assert.equal(JSON.parse(stop.body).message, 'strconv.Atoi: parsing "99999999999999999999": value out of range');
    assert.equal(JSON.parse((await api('GET', '/containers/sized/json')).body).State.Status, 'running');
    await api('DELETE', '/containers/sized?force=1');
  });

  test('stop?t=2147484 waits instead of killing at once (item 6)', async () => {
    // PID 1 without a SIGTERM handler ignores SIGTERM: only the timeout's SIGKILL would end it.
    await daemon.berth(['run', '-d', '--name', 'patient', 'busybox', 'sleep', '300']);
    let answered = false;
    const stopping = api('POST', '/containers/patient/stop?t=2147484').then((r) => {
      answered = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(answered, false, 'stop returned before its timeout');
    assert.equal(JSON.parse((await api('GET', '/containers/patient/json')).body).State.Running, true);
    await api('POST', '/containers/patient/kill');
    assert.equal((await stopping).status, 204);
    await api('DELETE', '/containers/patient');
  });

  test('sizes: ps and inspect with size=1 count what the container wrote; prune reports what it reclaimed (item 16)', async () => {
    const MiB = 1 << 20;
    await daemon.berth(['run', '--name', 'writer', 'busybox', 'dd', 'if=/dev/zero', 'of=/blob', 'bs=1024', 'count=1024']);
    const listed = JSON.parse((await api('GET', '/containers/json?all=1&size=1')).body).find((c: { Names: string[] }) => c.Names[0] === '/writer');
    assert.ok(listed.SizeRw >= MiB && listed.SizeRw < 2 * MiB, `SizeRw ${listed.SizeRw}`);
    assert.ok(listed.SizeRootFs > listed.SizeRw, `SizeRootFs ${listed.SizeRootFs}`);
    const inspected = JSON.parse((await api('GET', '/containers/writer/json?size=1')).body);
    assert.equal(inspected.SizeRw, listed.SizeRw);
    assert.equal(JSON.parse((await api('GET', '/containers/writer/json')).body).SizeRw, undefined, 'only when asked');
    const pruned = JSON.parse((await api('POST', '/containers/prune')).body);
    assert.ok(pruned.ContainersDeleted.includes(inspected.Id));
    assert.ok(pruned.SpaceReclaimed >= MiB, `SpaceReclaimed ${pruned.SpaceReclaimed}`);
  });

  test('pause and unpause freeze and thaw a running container', async () => {
    await daemon.berth(['run', '-d', '--name', 'frozen', 'busybox', 'sleep', '300']);
    assert.equal((await api('POST', '/containers/frozen/pause')).status, 204);
    const paused = JSON.parse((await api('GET', '/containers/frozen/json')).body).State;
    assert.deepEqual([paused.Status, paused.Running, paused.Paused], ['paused', true, true]);
    const listed = JSON.parse((await api('GET', '/containers/json')).body).find((c: { Names: string[] }) => c.Names[0] === '/frozen');
    assert.match(listed.Status, /^Up .* \(Paused\)$/);
    assert.equal((await api('POST', '/containers/frozen/pause')).status, 409);
    assert.equal((await api('POST', '/containers/frozen/unpause')).status, 204);
    const running = JSON.parse((await api('GET', '/containers/frozen/json')).body).State;
    assert.deepEqual([running.Status, running.Paused], ['running', false]);
    assert.equal((await api('DELETE', '/containers/frozen?force=1')).status, 204);
  });

  test('stop, kill and rm -f of a paused container finish at once: it is thawed so that it can die', async () => {
    const pausedRun = async (name: string) => {
      await daemon.berth(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
      assert.equal((await api('POST', `/containers/${name}/pause`)).status, 204);
    };
    const timed = async (request: Promise<{ status: number; body: string }>, status: number) => {
      const started = Date.now();
      const response = await request;
      assert.equal(response.status, status, response.body);
      return Date.now() - started;
    };
    await pausedRun('pstop');
    const stopMs = await timed(api('POST', '/containers/pstop/stop?t=1'), 204);
    assert.ok(stopMs < 5000, `stop took ${stopMs} ms`);
    const stopped = JSON.parse((await api('GET', '/containers/pstop/json')).body).State;
    assert.deepEqual([stopped.Status, stopped.Paused, stopped.ExitCode], ['exited', false, 137]);

    await pausedRun('pkill');
    const killMs = await timed(api('POST', '/containers/pkill/kill'), 204);
    assert.ok(killMs < 5000, `kill took ${killMs} ms`);
    assert.equal(JSON.parse((await api('GET', '/containers/pkill/json')).body).State.ExitCode, 137);

    await pausedRun('prm');
    const rmMs = await timed(api('DELETE', '/containers/prm?force=1'), 204);
    assert.ok(rmMs < 5000, `rm -f took ${rmMs} ms`);
    assert.equal((await api('GET', '/containers/prm/json')).status, 404);
    for (const name of ['pstop', 'pkill']) await api('DELETE', `/containers/${name}`);
  });

  test('a full disk at exit: the wait is answered, the run torn down, and the exit saved once space returns (item 4)', async () => {
    const id = (await daemon.berth(['run', '-d', '--name', 'fullexit', 'busybox', 'sh', '-c', 'sleep 2; exit 3'])).stdout.trim();
    // The container's folder becomes a full file system: the exit's save fails with ENOSPC.
    const dir = join(daemon.dataRoot, 'containers', id);
    const full = await mkdtemp(join(tmpdir(), 'berth-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full]);
    try {
      execFileSync('cp', ['-a', `${dir}/.`, full]);
      execFileSync('sh', ['-c', `dd if=/dev/zero of=${full}/filler bs=4k 2>/dev/null; true`]);
      execFileSync('mount', ['--bind', full, dir]);
      try {
        const waited = await api('POST', '/containers/fullexit/wait');
        assert.deepEqual(JSON.parse(waited.body), { Error: null, StatusCode: 3 });
        const state = JSON.parse((await api('GET', '/containers/fullexit/json')).body).State;
        assert.deepEqual([state.Status, state.ExitCode], ['exited', 3]);
        assert.deepEqual(await mountsUnder(join(daemon.dataRoot, 'overlay'), 5000), [], 'rootfs unmounted');
      } finally {
        execFileSync('umount', [dir]);
      }
    } finally {
      execFileSync('umount', [full]);
      await rm(full, { recursive: true, force: true });
    }
    // Space is back: the retry saves the exit, which a restart then reads.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    await daemon.restart();
    const state = JSON.parse((await api('GET', '/containers/fullexit/json')).body).State;
    assert.deepEqual([state.Status, state.ExitCode], ['exited', 3]);
    await api('DELETE', '/containers/fullexit');
  });

  test('ps shows the image id once the image a stopped container uses is removed by force (as moby)', async () => {
    await daemon.berth(['run', '--name', 'orphaned', 'busybox', 'true']);
    const listed = async () =>
      (JSON.parse((await api('GET', '/containers/json?all=1')).body) as Array<{ Names: string[]; Image: string; ImageID: string }>).find(
        (c) => c.Names[0] === '/orphaned',
      )!;
    const before = await listed();
    assert.equal(before.Image, 'busybox');
    assert.equal((await api('DELETE', '/images/busybox?force=1')).status, 200);
    const after = await listed();
    assert.match(after.ImageID, /^sha256:[0-9a-f]{64}$/);
    assert.equal(after.Image, after.ImageID);
    await api('DELETE', '/containers/orphaned');
    await daemon.berth(['image', 'busybox']); // for any test after this one
  });
});
