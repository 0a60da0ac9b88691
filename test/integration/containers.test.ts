import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { runOnPty } from '../helpers/pty.js';
import { mountsUnder, rawRequest } from '../helpers/http.js';

const execFileAsync = promisify(execFile);

// Each combination runs the same scenarios: both storage drivers and both runtimes are exercised.
const MATRIX = [
  { storageDriver: 'overlay', defaultRuntime: 'crun' },
  { storageDriver: 'vfs', defaultRuntime: 'runc' },
];

for (const combo of MATRIX) {
  describe(`containers on ${combo.storageDriver} with ${combo.defaultRuntime}`, { timeout: 180_000 }, () => {
    let daemon: TestDaemon;
    before(async () => {
      daemon = await startDaemon(combo);
      await daemon.berth(['image', 'busybox']);
    });
    after(async () => {
      await daemon?.stop();
    });

    test('run --rm prints the output and leaves nothing behind', async () => {
      const { stdout } = await daemon.berth(['run', '--rm', 'busybox', 'echo', 'hello from a container']);
      assert.equal(stdout, 'hello from a container\n');
      assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
      assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
    });

    test('exit codes propagate', async () => {
      const result = await daemon.berth(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'], { allowFailure: true });
      assert.equal(result.code, 3);
    });

    test('a command missing from the image exits 127 with Docker\'s message and leaves no container', async () => {
      const result = await daemon.berth(['run', '--rm', 'busybox', 'nosuchcmd'], { allowFailure: true });
      assert.equal(result.code, 127);
      assert.match(result.stderr, /executable file not found/);
      assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
      assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
    });

    test('stdin reaches the container and its EOF ends it', async () => {
      const { stdout } = await daemon.berth(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' });
      assert.equal(stdout, 'hi\n');
    });

    test('environment, working directory, user, entrypoint and hostname', async () => {
      const { stdout } = await daemon.berth([
        'run', '--rm', '-e', 'GREETING=hello', '-w', '/tmp', '-u', 'nobody', '--entrypoint', 'sh', 'busybox',
        '-c', 'echo $GREETING; pwd; id -u; hostname; echo $PATH',
      ]);
      const [greeting, cwd, uid, hostname, path] = stdout.trim().split('\n');
      assert.equal(greeting, 'hello');
      assert.equal(cwd, '/tmp');
      assert.equal(uid, '65534');
      assert.match(hostname, /^[0-9a-f]{12}$/);
      assert.equal(path, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    });

    test('isolation: own pid namespace, Docker capabilities, seccomp, masked paths, loopback-only network with --network none', async () => {
      const { stdout } = await daemon.berth([
        'run', '--rm', '--network', 'none', 'busybox', 'sh', '-c',
        'echo pid=$$; grep -E "^(CapEff|Seccomp):" /proc/self/status; wc -c < /proc/timer_list; ls /sys/class/net; ls /proc | grep -cE "^[0-9]+$"',
      ]);
      assert.match(stdout, /^pid=1$/m);
      assert.match(stdout, /^CapEff:\s+00000000a80425fb$/m);
      assert.match(stdout, /^Seccomp:\s+2$/m);
      assert.match(stdout, /^0$/m, '/proc/timer_list is masked');
      assert.match(stdout, /^lo$/m);
      assert.doesNotMatch(stdout, /eth0/);
    });

    test('isolation: new ipc, mount, uts, net and pid namespaces; Docker\'s /dev, /sys and /proc/sys mounts', async () => {
      const { stdout } = await daemon.berth([
        'run', '--rm', 'busybox', 'sh', '-c',
        'for n in ipc mnt uts net pid; do readlink /proc/1/ns/$n; done; grep -E " /(dev|dev/pts|dev/shm|dev/mqueue|sys|proc/sys) " /proc/mounts',
      ]);
      const lines = stdout.trim().split('\n');
      for (const [i, ns] of ['ipc', 'mnt', 'uts', 'net', 'pid'].entries()) {
        assert.notEqual(lines[i], await readlink(`/proc/self/ns/${ns}`), `${ns} namespace is the host's`);
      }
      const mounts = new Map(lines.slice(5).map((line) => [line.split(' ')[1], line]));
      assert.match(mounts.get('/dev') ?? '', /^tmpfs /);
      assert.match(mounts.get('/dev/pts') ?? '', /^devpts /);
      assert.match(mounts.get('/dev/shm') ?? '', /size=65536k/);
      assert.match(mounts.get('/dev/mqueue') ?? '', /^mqueue /);
      assert.match(mounts.get('/sys') ?? '', /^sysfs \/sys sysfs ro,/);
      assert.match(mounts.get('/proc/sys') ?? '', / ro,/);
    });

    test('seccomp filters every run, the first and the ones after it', async () => {
      // personality() with a persona outside Docker's allow-list is refused by the default profile.
      const work = await mkdtemp(join(tmpdir(), 'berth-seccomp-'));
      try {
        await writeFile(join(work, 'persona.c'), '#include <sys/personality.h>\n#include <stdio.h>\nint main(void){return personality(0x40008) < 0 ? (puts("denied"), 0) : (puts("allowed"), 1);}\n');
        await execFileAsync('gcc', ['-static', '-O2', '-o', join(work, 'persona'), join(work, 'persona.c')]);
        await execFileAsync('tar', ['-C', work, '-cf', join(work, 'persona.tar'), 'persona']);
        await daemon.berth(['import', join(work, 'persona.tar'), 'persona:test']);
        for (let i = 0; i < 3; i++) {
          assert.equal((await daemon.berth(['run', '--rm', 'persona:test', '/persona'])).stdout, 'denied\n');
        }
        await daemon.berth(['rmi', 'persona:test']);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });

    test('detached container: ps, logs, inspect, stop, rm', async () => {
      const { stdout: id } = await daemon.berth(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; exec sleep 300']);
      assert.match(id.trim(), /^[0-9a-f]{64}$/);
      const ps = (await daemon.berth(['ps'])).stdout.split('\n');
      assert.match(ps[0], /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
      assert.match(ps[1], /busybox.*Up .*web$/);
      await new Promise((r) => setTimeout(r, 200));
      const logs = await daemon.berth(['logs', 'web']);
      assert.equal(logs.stdout, 'out1\n');
      assert.equal(logs.stderr, 'err1\n');
      const [inspect] = JSON.parse((await daemon.berth(['inspect', 'web'])).stdout);
      assert.equal(inspect.Id, id.trim());
      assert.equal(inspect.Name, '/web');
      assert.equal(inspect.State.Running, true);
      assert.ok(inspect.State.Pid > 0);
      assert.equal(inspect.Config.Image, 'busybox');
      assert.equal((await daemon.berth(['stop', '-t', '1', 'web'])).stdout, 'web\n');
      const [stopped] = JSON.parse((await daemon.berth(['inspect', 'web'])).stdout);
      assert.equal(stopped.State.Status, 'exited');
      assert.equal(stopped.State.ExitCode, 137);
      assert.match((await daemon.berth(['ps', '-a'])).stdout, /Exited \(137\)/);
      await daemon.berth(['rm', 'web']);
      assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
    });

    test('logs: --tail, --timestamps and --since', async () => {
      await daemon.berth(['run', '--name', 'chatty', 'busybox', 'sh', '-c', 'echo one; echo two; echo three']);
      assert.equal((await daemon.berth(['logs', '--tail', '2', 'chatty'])).stdout, 'two\nthree\n');
      const stamped = (await daemon.berth(['logs', '-t', '-n', '1', 'chatty'])).stdout;
      assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n$/);
      const future = String(Math.floor(Date.now() / 1000) + 3600);
      assert.equal((await daemon.berth(['logs', '--since', future, 'chatty'])).stdout, '');
      assert.equal((await daemon.berth(['logs', '--since', '1h', 'chatty'])).stdout, 'one\ntwo\nthree\n');
      await daemon.berth(['rm', 'chatty']);
    });

    test('wait, restart and rename', async () => {
      await daemon.berth(['run', '-d', '--name', 'w1', 'busybox', 'sh', '-c', 'echo ran; exit 4']);
      assert.equal((await daemon.berth(['wait', 'w1'])).stdout, '4\n');
      await daemon.berth(['restart', 'w1']);
      await daemon.berth(['rename', 'w1', 'w2']);
      assert.equal((await daemon.berth(['wait', 'w2'])).stdout, '4\n');
      assert.equal((await daemon.berth(['logs', 'w2'])).stdout, 'ran\nran\n');
      await daemon.berth(['rm', 'w2']);
    });

    test('run -it gives a shell on a pty; Ctrl-P Ctrl-Q detaches and leaves it running', async () => {
      const cli = `${process.execPath} ${BERTH} run -it --name pty busybox sh`;
      try {
        const typed = await runOnPty(cli, daemon.env, ['echo typed-$((40+2)); stty size\r', '\x10\x11'], 600, /# /);
        assert.equal(typed.code, 0, typed.output);
        assert.match(typed.output, /typed-42/);
        const [inspect] = JSON.parse((await daemon.berth(['inspect', 'pty'])).stdout);
        assert.equal(inspect.State.Running, true, 'still running after the detach');
        const exited = await runOnPty(`${process.execPath} ${BERTH} attach pty`, daemon.env, ['exit 5\r'], 600);
        assert.equal(exited.code, 5, exited.output);
      } finally {
        await daemon.berth(['rm', '-f', 'pty'], { allowFailure: true });
      }
    });

    test('ps -f and images REFERENCE / -f narrow the lists', async () => {
      await daemon.berth(['tag', 'busybox', 'zz:1']);
      assert.match((await daemon.berth(['images', 'zz'])).stdout, /^REPOSITORY.*\nzz\s+1\s.*\n$/);
      assert.doesNotMatch((await daemon.berth(['images', '-f', 'reference=busy*'])).stdout, /zz/);
      await daemon.berth(['create', '--name', 'labelled', '-l', 'team=a', 'busybox', 'true']);
      await daemon.berth(['create', '--name', 'plain', 'busybox', 'true']);
      assert.match((await daemon.berth(['ps', '-a', '-f', 'label=team=a'])).stdout, /\slabelled\n$/);
      assert.equal((await daemon.berth(['ps', '-a', '-q', '-f', 'status=running'])).stdout, '');
      assert.equal((await daemon.berth(['ps', '-a', '-q', '-f', 'name=plain'])).stdout.trim().length, 12);
      const newestFirst = (await daemon.berth(['ps', '-a', '--format', '{{.Names}}', '-f', 'name=labelled', '-f', 'name=plain'])).stdout;
      assert.equal(newestFirst, 'plain\nlabelled\n');
      await daemon.berth(['rm', 'labelled', 'plain']);
      await daemon.berth(['rmi', 'zz:1']);
    });

    test('names are unique and unknown names give 404', async () => {
      await daemon.berth(['create', '--name', 'dup', 'busybox', 'true']);
      const clash = await daemon.berth(['create', '--name', 'dup', 'busybox', 'true'], { allowFailure: true });
      assert.notEqual(clash.code, 0);
      assert.match(clash.stderr, /Conflict\. The container name "\/dup" is already in use by container/);
      const missing = await daemon.berth(['rm', 'nosuch'], { allowFailure: true });
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Error response from daemon: No such container: nosuch/);
      await daemon.berth(['rm', 'dup']);
    });

    test('rm of a running container needs force; kill sets 137', async () => {
      await daemon.berth(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '300']);
      const refused = await daemon.berth(['rm', 'busy'], { allowFailure: true });
      assert.match(refused.stderr, /You cannot remove a running container/);
      await daemon.berth(['kill', 'busy']);
      const [inspect] = JSON.parse((await daemon.berth(['inspect', 'busy'])).stdout);
      assert.equal(inspect.State.ExitCode, 137);
      await daemon.berth(['run', '-d', '--name', 'busy2', 'busybox', 'sleep', '300']);
      await daemon.berth(['rm', '-f', 'busy', 'busy2']);
      assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
      assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
    });

    test('rmi follows moby: names untag, ids delete, containers in use conflict', async () => {
      await daemon.berth(['tag', 'busybox', 'spare:1']);
      const id: string = JSON.parse((await daemon.berth(['image', 'inspect', 'spare:1'])).stdout)[0].Id;
      const byId = await daemon.berth(['rmi', id], { allowFailure: true });
      assert.match(byId.stderr, /unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories/);
      await daemon.berth(['run', '-d', '--name', 'holder', 'spare:1', 'sleep', '300']);
      assert.equal((await daemon.berth(['rmi', 'busybox'])).stdout, 'Untagged: busybox:latest\n', 'one of two names only untags');
      const last = await daemon.berth(['rmi', 'spare:1'], { allowFailure: true });
      assert.match(last.stderr, /unable to remove repository reference "spare:1" \(must force\) - container [0-9a-f]{12} is using its referenced image/);
      const running = await daemon.berth(['rmi', '-f', id], { allowFailure: true });
      assert.match(running.stderr, /\(cannot be forced\) - image is being used by running container/);
      assert.equal((await daemon.berth(['rmi', '-f', 'spare:1'])).stdout, 'Untagged: spare:1\n', 'a running user keeps the image');
      await daemon.berth(['run', '--rm', id, 'true']);
      await daemon.berth(['rm', '-f', 'holder']);
      assert.match((await daemon.berth(['rmi', id])).stdout, /^Deleted: sha256:[0-9a-f]{64}\n$/);
      await daemon.berth(['image', 'busybox']);
    });

    test('bad input gets Docker\'s errors and creates nothing', async () => {
      const unknownImage = await daemon.berth(['run', '--rm', 'nosuchimage:1', 'true'], { allowFailure: true });
      assert.equal(unknownImage.code, 125);
      assert.match(unknownImage.stderr, /Unable to find image 'nosuchimage:1' locally/);
      const malformed = await rawRequest(daemon.socket, 'POST', '/v1.50/containers/create', '{"Image": "busybox",');
      assert.equal(malformed.status, 400);
      assert.match(JSON.parse(malformed.body).message, /invalid JSON/);
      const noImage = await rawRequest(daemon.socket, 'POST', '/v1.50/containers/create', '{"Image":"nosuchimage:1","Cmd":["true"]}');
      assert.equal(noImage.status, 404);
      assert.equal(JSON.parse(noImage.body).message, 'No such image: nosuchimage:1');
      const badName = await rawRequest(daemon.socket, 'POST', '/containers/create?name=bad%20name', '{"Image":"busybox"}');
      assert.equal(badName.status, 400);
      const tooNew = await rawRequest(daemon.socket, 'GET', '/v1.99/version');
      assert.equal(tooNew.status, 400);
      assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
    });

    test('the exit of a container is recorded while berthd is down', async () => {
      await daemon.berth(['run', '-d', '--name', 'outlive', 'busybox', 'sh', '-c', 'sleep 1; exit 7']);
      daemon.process.kill('SIGKILL');
      await new Promise((r) => daemon.process.once('exit', r));
      await new Promise((r) => setTimeout(r, 1500));
      await daemon.restart();
      const [inspect] = JSON.parse((await daemon.berth(['inspect', 'outlive'])).stdout);
      assert.equal(inspect.State.Status, 'exited');
      assert.equal(inspect.State.ExitCode, 7);
      await daemon.berth(['rm', 'outlive']);
      assert.deepEqual(await mountsUnder(daemon.dataRoot), []);
    });
  });
}
