/** exec through the API and `berth exec`, on real containers (both runtimes). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonError, EngineClient, type ExecInspect } from '../../src/client/index.js';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { runOnPty } from '../helpers/pty.js';
import { processesMentioning } from './runtime-harness.js';
import { demux } from '../helpers/raw-attach.js';

const MATRIX = [
  { storageDriver: 'overlay', defaultRuntime: 'crun' },
  { storageDriver: 'vfs', defaultRuntime: 'runc' },
];

/** Polls the exec until it has ended. */
async function ended(client: EngineClient, id: string): Promise<ExecInspect> {
  for (let i = 0; i < 200; i++) {
    const exec = await client.inspectExec(id);
    if (!exec.Running && exec.ExitCode !== null) return exec;
    await sleep(25);
  }
  throw new Error(`exec ${id} did not end`);
}

async function rejection(promise: Promise<unknown>): Promise<DaemonError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof DaemonError, `expected a daemon error, got ${String(err)}`);
  return err;
}

for (const combo of MATRIX) {
  describe(`exec on ${combo.storageDriver} with ${combo.defaultRuntime}`, { timeout: 180_000 }, () => {
    let daemon: TestDaemon;
    let client: EngineClient;
    let work: string;
    const berth = (args: string[], input?: string) => daemon.berth(args, { allowFailure: true, input });
    before(async () => {
      daemon = await startDaemon(combo);
      client = new EngineClient(daemon.socket);
      work = await mkdtemp(join(tmpdir(), 'berth-exec-'));
      await daemon.berth(['image', 'busybox']);
      await daemon.berth(['run', '-d', '--name', 'box', '--network', 'none', '-e', 'FROM_RUN=1', '-w', '/etc', 'busybox', 'sleep', '1000']);
    });
    after(async () => {
      client?.close();
      await daemon?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    });

    test('output, exit codes, and 127/126 for a command that cannot start', async () => {
      assert.deepEqual(await berth(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2']), { stdout: 'out\n', stderr: 'err\n', code: 0 });
      assert.equal((await berth(['exec', 'box', 'sh', '-c', 'exit 42'])).code, 42);
      const missing = await berth(['exec', 'box', 'nosuchcmd']);
      assert.equal(missing.code, 127);
      assert.match(missing.stdout, /executable file not found in \$PATH/);
      const denied = await berth(['exec', 'box', '/etc/passwd']);
      assert.equal(denied.code, 126);
      assert.match(denied.stdout, /permission denied/);
    });

    test('without a terminal: all of a quick process\'s output, 128+N after signal N, a background child does not hold the exec', async () => {
      const many = await berth(['exec', 'box', 'sh', '-c', 'seq 1 30000; echo done >&2']);
      assert.deepEqual([many.stdout.split('\n').length, many.stdout.endsWith('\n30000\n'), many.stderr, many.code], [30001, true, 'done\n', 0]);
      assert.equal((await berth(['exec', 'box', 'sh', '-c', 'kill -9 $$'])).code, 137);
      const began = Date.now();
      const background = await berth(['exec', 'box', 'sh', '-c', 'sleep 30 & echo started']);
      assert.deepEqual([background.stdout, background.code], ['started\n', 0]);
      assert.ok(Date.now() - began < 15_000, 'the exec ended with its process, not with the child that kept its output open');
    });

    test('-u, -w, -e and --env-file over the container\'s own settings; -i feeds stdin', async () => {
      const envFile = join(work, 'env');
      await writeFile(join(work, 'env'), '# a comment\nFROM_FILE=2\n');
      const inherited = await berth(['exec', 'box', 'sh', '-c', 'echo $FROM_RUN $(pwd) $(id -u)']);
      assert.equal(inherited.stdout, '1 /etc 0\n');
      const given = await berth(['exec', '-u', 'nobody', '-w', '/tmp', '-e', 'FROM_RUN=override', '--env-file', envFile, 'box', 'sh', '-c', 'echo $FROM_RUN $FROM_FILE $(pwd) $(id -un)']);
      assert.equal(given.stdout, 'override 2 /tmp nobody\n');
      assert.equal((await berth(['exec', '-u', '1234:5678', 'box', 'id'])).stdout, 'uid=1234 gid=5678 groups=5678\n');
      const unknownUser = await berth(['exec', '-u', 'nosuchuser', 'box', 'true']);
      assert.notEqual(unknownUser.code, 0);
      assert.match(unknownUser.stdout, /unable to find user nosuchuser/);
      assert.equal((await berth(['exec', '-i', 'box', 'sh', '-c', 'cat; echo done'], 'piped\n')).stdout, 'piped\ndone\n');
    });

    test('--privileged gives the exec every capability', async () => {
      const capEff = async (args: string[]) => (await berth(['exec', ...args, 'box', 'grep', 'CapEff', '/proc/self/status'])).stdout.split(/\s+/)[1];
      const plain = BigInt(`0x${await capEff([])}`);
      const privileged = BigInt(`0x${await capEff(['--privileged'])}`);
      assert.notEqual(plain, privileged);
      assert.equal(privileged & plain, plain);
      assert.ok((privileged & (1n << 21n)) !== 0n, 'CAP_SYS_ADMIN');
    });

    test('-t gives a terminal of the local size', async () => {
      const { output, code } = await runOnPty(`stty rows 33 cols 101; ${process.execPath} ${BERTH} exec -it box sh -c 'stty size; tty'`, daemon.env);
      assert.equal(code, 0, output);
      assert.match(output, /33 101\r+\n\/dev\/pts\/\d+\r+\n/);
    });

    test('-d runs in the background; exec inspect follows it to its exit code', async () => {
      const { stdout, code } = await berth(['exec', '-d', 'box', 'sh', '-c', 'sleep 0.3; touch /tmp/detached']);
      assert.deepEqual({ stdout, code }, { stdout: '', code: 0 });
      const { Id } = await client.createExec('box', { Cmd: ['sh', '-c', 'sleep 0.3; exit 7'], User: '1', Tty: false, AttachStdout: true });
      const created = await client.inspectExec(Id);
      assert.deepEqual(
        { ...created, ContainerID: created.ContainerID.length },
        {
          ID: Id, Running: false, ExitCode: null,
          ProcessConfig: { tty: false, entrypoint: 'sh', arguments: ['-c', 'sleep 0.3; exit 7'], privileged: false, user: '1' },
          OpenStdin: false, OpenStderr: false, OpenStdout: true, CanRemove: false, ContainerID: 64, DetachKeys: '', Pid: 0,
        },
      ); // prettier-ignore
      await client.startExecDetached(Id);
      const running = await client.inspectExec(Id);
      assert.equal(running.Running, true);
      assert.ok(running.Pid > 0);
      assert.ok((await client.inspectContainer('box')).ExecIDs?.includes(Id), 'a running exec is listed in the container\'s ExecIDs');
      const done = await ended(client, Id);
      assert.equal(done.ExitCode, 7);
      assert.ok(!(await client.inspectContainer('box')).ExecIDs?.includes(Id), 'an ended exec leaves ExecIDs');
      assert.equal((await berth(['exec', 'box', 'ls', '/tmp/detached'])).code, 0);
      const again = await rejection(client.startExecDetached(Id));
      assert.equal(again.statusCode, 409);
      assert.equal(again.message, `Error: Exec command ${Id} has already run`);
      const unknown = await rejection(client.inspectExec('nosuchexec'));
      assert.deepEqual([unknown.statusCode, unknown.message], [404, 'No such exec instance: nosuchexec']);
      const empty = await rejection(client.createExec('box', { Cmd: [] }));
      assert.deepEqual([empty.statusCode, empty.message], [400, 'No exec command specified']);
    });

    test('an exec outlives a client that goes away, and its monitor and files go when it ends', async () => {
      const { Id } = await client.createExec('box', { Cmd: ['sh', '-c', 'sleep 0.5; echo late; touch /tmp/outlived'], AttachStdout: true, AttachStdin: true });
      const socket = await client.attachExec(Id, { tty: false });
      await sleep(100);
      socket.destroy();
      const done = await ended(client, Id);
      assert.equal(done.ExitCode, 0);
      assert.equal((await berth(['exec', 'box', 'ls', '/tmp/outlived'])).code, 0);
      const { Id: containerId } = await client.inspectContainer('box');
      assert.deepEqual(await processesMentioning(Id), []);
      assert.deepEqual(await readdir(join(daemon.execRoot, 'exec', containerId)).catch(() => []), []);
    });

    test('stopped and paused containers get Docker\'s 409s; exec instances go with their container', async () => {
      await daemon.berth(['run', '-d', '--name', 'short', '--network', 'none', 'busybox', 'sleep', '1000']);
      const { Id: containerId } = await client.inspectContainer('short');
      const { Id } = await client.createExec('short', { Cmd: ['true'] });
      await client.pauseContainer('short');
      const paused = await berth(['exec', 'short', 'true']);
      assert.deepEqual(paused, { stdout: '', stderr: 'Error response from daemon: Container short is paused, unpause the container before exec\n', code: 1 });
      await client.unpauseContainer('short');
      await daemon.berth(['kill', 'short']);
      const stopped = await berth(['exec', 'short', 'true']);
      assert.deepEqual(stopped, { stdout: '', stderr: `Error response from daemon: container ${containerId} is not running\n`, code: 1 });
      assert.equal((await client.inspectExec(Id)).ExitCode, null);
      await daemon.berth(['rm', 'short']);
      assert.equal((await rejection(client.inspectExec(Id))).statusCode, 404);
    });

    test('start without an Upgrade header: 200 and the raw output until the process ends, as dockerd', async () => {
      const { Id } = await client.createExec('box', { Cmd: ['sh', '-c', 'echo out; sleep 0.2; echo err >&2; exit 4'], AttachStdout: true, AttachStderr: true });
      const answer = await new Promise<{ status: number; type: string | undefined; body: Buffer }>((resolve, reject) => {
        const req = request({ socketPath: daemon.socket, method: 'POST', path: `/v1.50/exec/${Id}/start`, headers: { 'Content-Type': 'application/json' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ Detach: false, Tty: false }));
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.type, 'application/vnd.docker.multiplexed-stream');
      assert.deepEqual(demux(answer.body), [[1, 'out\n'], [2, 'err\n']]);
      assert.equal((await ended(client, Id)).ExitCode, 4);
    });

    test('exec_create, exec_start and exec_die events, as dockerd words them', async () => {
      const since = String(Date.now() / 1000);
      await berth(['exec', 'box', 'sh', '-c', 'exit 3']);
      const { stdout } = await berth(['events', '--since', since, '--until', String(Date.now() / 1000 + 1), '--format', '{{.Action}} {{index .Actor.Attributes "exitCode"}} {{len (index .Actor.Attributes "execID")}}']);
      assert.deepEqual(stdout.trim().split('\n'), ['exec_create: sh -c exit 3 <no value> 64', 'exec_start: sh -c exit 3 <no value> 64', 'exec_die 3 64']);
    });
  });
}
