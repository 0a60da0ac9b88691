/**
 * bin/berth run as a program, as users run it: /bin/sh starts node from the CLI's startup
 * snapshot. (The shared test helper runs `node bin/berth`, the module path of the same file.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { runOnPty } from '../helpers/pty.js';
import { until } from '../helpers/raw-attach.js';

const execFileAsync = promisify(execFile);

async function berth(args: string[], env: NodeJS.ProcessEnv = process.env, file = BERTH) {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, { env });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

test('--version and -v print the client version without a daemon, from both entry paths', async () => {
  for (const flag of ['--version', '-v']) {
    assert.deepEqual(await berth([flag]), { stdout: 'Berth version 0.1.0\n', stderr: '', code: 0 });
  }
  const { stdout } = await execFileAsync(process.execPath, [BERTH, '--version']);
  assert.equal(stdout, 'Berth version 0.1.0\n');
});

test('the launcher finds the snapshot through a symlink to bin/berth', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  try {
    await symlink(BERTH, join(dir, 'berth'));
    assert.equal((await berth(['--version'], process.env, join(dir, 'berth'))).stdout, 'Berth version 0.1.0\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a line naming no command prints the usage on stderr and exits 0, as docker does', async () => {
  for (const args of [[], ['image']]) {
    const result = await berth(args);
    assert.equal(result.code, 0, args.join(' '));
    assert.match(result.stderr, /^Usage: berth /);
  }
});

test('a usage error exits 125 as docker does, in docker\'s words', async () => {
  const result = await berth(['--no-such-flag']);
  assert.equal(result.code, 125);
  assert.equal(result.stderr, "unknown flag: --no-such-flag\n\nUsage:  berth [options] [command]\n\nRun 'berth --help' for more information\n");
});

describe('the launched CLI against berthd', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startDaemon();
    assert.equal((await berth(['image', 'busybox'], daemon.env)).code, 0);
  });
  after(() => daemon?.stop());

  test('run --rm --network none runs the container on its own loopback-only network', async () => {
    const result = await berth(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net'], daemon.env);
    assert.deepEqual(result, { stdout: 'lo\n', stderr: '', code: 0 });
  });

  test('NODE_EXTRA_CA_CERTS, moved aside for node, is still passed on by run -e', async () => {
    const env = { ...daemon.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' };
    const result = await berth(['run', '--rm', '--network', 'none', '-e', 'NODE_EXTRA_CA_CERTS', 'busybox', 'sh', '-c', 'echo "$NODE_EXTRA_CA_CERTS"'], env);
    assert.deepEqual(result, { stdout: '/nonexistent/ca.pem\n', stderr: '', code: 0 });
    const unset = { ...daemon.env };
    delete unset.NODE_EXTRA_CA_CERTS;
    const without = await berth(['run', '--rm', '--network', 'none', '-e', 'NODE_EXTRA_CA_CERTS', 'busybox', 'sh', '-c', 'echo "[${NODE_EXTRA_CA_CERTS-unset}]"'], unset);
    assert.equal(without.stdout, '[unset]\n');
  });

  test('a reader that stops early ends berth quietly, as SIGPIPE ends the docker CLI', async () => {
    assert.equal((await berth(['run', '-d', '--name', 'many', '--network', 'none', 'busybox', 'seq', '200000'], daemon.env)).code, 0);
    try {
      assert.equal((await berth(['wait', 'many'], daemon.env)).stdout, '0\n');
      const { stdout, stderr } = await execFileAsync('bash', ['-o', 'pipefail', '-c', `${BERTH} logs many | head -1`], { env: daemon.env });
      assert.deepEqual({ stdout, stderr }, { stdout: '1\n', stderr: '' });
    } finally {
      await berth(['rm', '-f', 'many'], daemon.env);
    }
  });

  test('--cidfile writes the new container id, and a file already there is refused as docker does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-cidfile-'));
    const cidfile = join(dir, 'cid');
    try {
      const run = await berth(['run', '-q', '--cidfile', cidfile, '--network', 'none', 'busybox', 'true'], daemon.env);
      assert.equal(run.code, 0, run.stderr);
      const id = await readFile(cidfile, 'utf8');
      assert.match(id, /^[0-9a-f]{64}$/);
      const again = await berth(['create', '--cidfile', cidfile, 'busybox', 'true'], daemon.env);
      assert.equal(again.code, 125);
      assert.match(again.stderr, /container ID file found, make sure the other container isn't running or delete /);
      await berth(['rm', id], daemon.env);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The snapshot's build ran `run` once (src/cli/snapshot-warmup.ts), handlers and all: a call
  // from it must still take the signals it forwards and the exit code it reports.
  test('run from the snapshot forwards a signal to the container and exits with its code', async () => {
    const child = spawn(BERTH, ['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'trap "echo got-int; exit 7" INT; while true; do echo tick; sleep 0.2; done'], {
      env: daemon.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // A few ticks: the CLI forwards signals once the start has been answered, as the docker CLI.
    await until(() => output.split('tick').length > 3, 'output of the container');
    child.kill('SIGINT');
    assert.equal(await exited, 7, output);
    assert.match(output, /got-int/);
  });

  test('config.json psFormat and imagesFormat are the default formats of ps and images, from --config or DOCKER_CONFIG; --format and -q win', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
    try {
      await writeFile(join(dir, 'config.json'), JSON.stringify({ psFormat: 'name={{.Names}}', imagesFormat: 'image={{.Repository}}:{{.Tag}}' }));
      // imagesFormat likewise, as the docker CLI reads the same file on the same daemon.
      for (const args of [['images'], ['image', 'ls', '--digests'], ['images', '--format', 'table'], ['images', '--format', '{{.Tag}}'], ['images', '-q']]) {
        // The image is seconds old: an age read a second apart may differ.
        const aged = (text: string) => text.replace(/(\d+|About a(n)?) (second|minute)s? ago/g, 'moments ago');
        const ours = await berth(['--config', dir, ...args], daemon.env);
        const docker = await execFileAsync('/usr/local/bin/docker', ['--config', dir, ...args], { env: daemon.env });
        assert.deepEqual({ ...ours, stdout: aged(ours.stdout) }, { stdout: aged(docker.stdout), stderr: docker.stderr, code: 0 }, args.join(' '));
      }
      assert.equal((await berth(['--config', dir, 'images'], daemon.env)).stdout, 'image=busybox:latest\n');
      assert.equal((await berth(['create', '--name', 'configured', 'busybox', 'true'], daemon.env)).code, 0);
      const filter = ['--filter', 'name=configured'];
      assert.equal((await berth(['--config', dir, 'ps', '-a', ...filter], daemon.env)).stdout, 'name=configured\n');
      assert.equal((await berth(['ps', '-a', ...filter], { ...daemon.env, DOCKER_CONFIG: dir })).stdout, 'name=configured\n');
      assert.match((await berth(['--config', dir, 'ps', '-a', '--format', 'table', ...filter], daemon.env)).stdout, /^CONTAINER ID {3}IMAGE/);
      assert.match((await berth(['--config', dir, 'ps', '-aq', ...filter], daemon.env)).stdout, /^[0-9a-f]{12}\n$/);
    } finally {
      await berth(['rm', 'configured'], daemon.env);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('container prune, container ls and version --format answer as the docker CLI does on the same daemon', async () => {
    const one = (file: string, args: string[], input: string) =>
      new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
        const child = execFile(file, args, { env: daemon.env }, (err, stdout, stderr) =>
          resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code) : 0 }),
        );
        child.stdin!.end(input);
      });
    // In turn, not at once: a prune of one would race the listing of the other.
    const both = async (args: string[], input = '') => ({ ours: await one(BERTH, args, input), docker: await one('/usr/local/bin/docker', args, input) });
    const declined = await both(['container', 'prune'], 'n\n');
    assert.deepEqual(declined.ours, declined.docker);
    assert.equal(declined.ours.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
    const stopped = (await berth(['create', 'busybox', 'true'], daemon.env)).stdout.trim();
    const pruned = await berth(['container', 'prune', '-f'], daemon.env);
    assert.deepEqual(pruned, { stdout: `Deleted Containers:\n${stopped}\n\nTotal reclaimed space: 0B\n`, stderr: '', code: 0 });
    const empty = await both(['container', 'prune', '--force']);
    assert.deepEqual(empty.ours, empty.docker);
    const listed = await both(['container', 'ls', '-a', '--format', '{{.Names}} {{.Status}}']);
    assert.deepEqual(listed.ours, listed.docker);
    for (const args of [['container', 'inspect', 'nosuch'], ['rename', 'nosuch', 'other']]) {
      const missing = await both(args);
      assert.deepEqual(missing.ours, missing.docker, args.join(' '));
    }
    const server = await both(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Experimental}} {{json .Server}}']);
    assert.deepEqual(server.ours, server.docker);
    const info = await both(['info', '--format', '{{.ServerVersion}} {{.Containers}} {{.Driver}}']);
    assert.deepEqual(info.ours, info.docker);
  });

  test('on a terminal: tables fit its width, errors are red unless NO_COLOR; piped output stays plain', async () => {
    assert.equal((await berth(['create', '--name', 'a_container_name_long_enough_to_matter', 'busybox', 'sh', '-c', 'echo a command line long enough'], daemon.env)).code, 0);
    try {
      const line = `stty cols 72 rows 20; ${BERTH} ps -a; ${BERTH} inspect nosuch; NO_COLOR=1 ${BERTH} inspect nosuch`;
      const { output } = await runOnPty(line, daemon.env);
      const lines = output.split('\r\n');
      const table = lines.slice(0, lines.findIndex((text) => text.startsWith('[]')));
      assert.ok(table.length >= 2, output);
      for (const text of table) assert.ok([...text].length <= 72, `${JSON.stringify(text)} is wider than the terminal`);
      assert.match(table.join('\n'), / a_cont\w*…$/m, 'the long name is cut to fit');
      assert.match(output, /\x1b\[31mError: No such object: nosuch\x1b\[0m/);
      assert.match(output, /\r\nError: No such object: nosuch\r\n/, 'NO_COLOR: no colour');
      const piped = await berth(['ps', '-a'], { ...daemon.env, COLUMNS: '72' });
      assert.ok(piped.stdout.split('\n').some((text) => text.length > 72), 'piped output is never cut');
      assert.match(piped.stdout, / a_container_name_long_enough_to_matter\n/);
    } finally {
      await berth(['rm', 'a_container_name_long_enough_to_matter'], daemon.env);
    }
  });

  test('DOCKER_HOST=tcp://127.0.0.1:PORT: the same calls over TCP (berthd reached through a forwarder on loopback)', async () => {
    // berthd listens on its unix socket only: each TCP connection is carried to it as it is, half-closes included.
    const forwarder = createServer({ allowHalfOpen: true }, (client) => {
      const daemonSide = connect({ path: daemon.socket, allowHalfOpen: true });
      client.pipe(daemonSide).pipe(client);
      client.on('error', () => daemonSide.destroy());
      daemonSide.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
    const { port } = forwarder.address() as AddressInfo;
    const env: NodeJS.ProcessEnv = { ...daemon.env, DOCKER_HOST: `tcp://127.0.0.1:${port}` };
    delete env.BERTH_HOST;
    try {
      const run = await berth(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo over tcp; exit 3'], env);
      assert.deepEqual(run, { stdout: 'over tcp\n', stderr: '', code: 3 });
      const input = await new Promise<string>((resolve, reject) => {
        const child = execFile(BERTH, ['run', '-i', '--rm', '--network', 'none', 'busybox', 'cat'], { env }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
        child.stdin!.end('stdin over tcp\n');
      });
      assert.equal(input, 'stdin over tcp\n');
      assert.match((await berth(['-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Os}}'], daemon.env)).stdout, /^linux\n$/);
    } finally {
      await new Promise((resolve) => forwarder.close(resolve));
    }
    const refused = await berth(['version', '--format', '{{.Server.Os}}'], env);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `Cannot connect to the Berth daemon at tcp://127.0.0.1:${port}. Is berthd running?\n`);
  });

  test('version prints the client and the server sections', async () => {
    const result = await berth(['version'], daemon.env);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Client:\n Version: +0\.1\.0\n[\s\S]*\nServer: Berth\n Engine:\n/);
  });
});
