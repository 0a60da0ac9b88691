/**
 * diff, commit and history on both storage drivers and both runtimes, through the real docker CLI
 * and berth: Docker's A/C/D entries for running and stopped containers, a commit that adds
 * exactly one layer holding only the diff and one history entry, and an image that runs and sees
 * the changes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { docker } from '../helpers/docker-cli.js';
import { tarNamesAsBytes } from '../unit/archive-fixtures.js';

const run = promisify(execFile);

const COMBOS = [
  { storageDriver: 'overlay', defaultRuntime: 'crun' },
  { storageDriver: 'vfs', defaultRuntime: 'runc' },
];

/** Adds a directory with a file, deletes an image file and a whole image directory, changes an image file. */
const CHANGE_SCRIPT = 'mkdir /new && echo x > /new/f && rm -rf /home && rm /bin/ls && echo extra >> /etc/passwd';
const EXPECTED_DIFF = 'C /bin\nD /bin/ls\nC /etc/passwd\nD /home\nA /new\nA /new/f\n';
/** The layer a commit of those changes holds: the diff alone, deletions as whiteouts. */
const EXPECTED_LAYER = ['.wh.home', 'bin/', 'bin/.wh.ls', 'etc/', 'etc/passwd', 'new/', 'new/f'];

async function ok(result: Promise<{ stdout: string; stderr: string; code: number }>): Promise<string> {
  const { stdout, stderr, code } = await result;
  assert.equal(code, 0, stderr);
  return stdout;
}

/** The path of an image's top layer blob in the content store. */
async function topLayerBlob(daemon: TestDaemon, imageId: string): Promise<string> {
  const meta = JSON.parse(await readFile(join(daemon.dataRoot, 'image', 'images', `${imageId.replace('sha256:', '')}.json`), 'utf8'));
  const top = meta.layerBlobs[meta.layerBlobs.length - 1].digest.replace('sha256:', '');
  return join(daemon.dataRoot, 'content', 'blobs', 'sha256', top);
}

/** The entries of an image's top layer blob, as stored in the content store. */
async function topLayerEntries(daemon: TestDaemon, imageId: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tf', await topLayerBlob(daemon, imageId)]);
  return stdout.split('\n').filter(Boolean).map((entry) => entry.replace(/^\.\//, '')).sort();
}

/**
 * Names that are not UTF-8, made by a container's shell: a\377b, a cut-short sequence c\342\202,
 * and a folder d\376 with a file f\377 in it. dockerd shows each byte not in a valid sequence as
 * one U+FFFD (Go's encoding/json).
 */
const RAW_NAMES_SCRIPT = "cd / && touch \"$(printf 'a\\377b')\" \"$(printf 'c\\342\\202')\" && mkdir \"$(printf 'd\\376')\" && touch \"$(printf 'd\\376/f\\377')\"";

for (const combo of COMBOS) {
  describe(`diff, commit and history on ${combo.storageDriver} with ${combo.defaultRuntime}`, { timeout: 240_000 }, () => {
    let daemon: TestDaemon;
    before(async () => {
      daemon = await startDaemon(combo);
      await daemon.berth(['image', 'busybox']);
    });
    after(async () => {
      await daemon?.stop();
    });

    test('diff lists added, changed and deleted files and directories, running and stopped, as docker diff', async () => {
      await ok(docker(daemon, ['run', '-d', '--name', 'differ', '--network', 'none', 'busybox', 'sh', '-c', `${CHANGE_SCRIPT} && touch /ready && sleep 600`]));
      for (let i = 0; i < 200 && !(await docker(daemon, ['diff', 'differ'])).stdout.includes('/ready'); i++) await new Promise((r) => setTimeout(r, 25));
      const expected = `${EXPECTED_DIFF}A /ready\n`;
      assert.equal(await ok(docker(daemon, ['diff', 'differ'])), expected);
      assert.equal((await daemon.berth(['diff', 'differ'])).stdout, expected);
      await ok(docker(daemon, ['stop', '-t', '0', 'differ']));
      assert.equal(await ok(docker(daemon, ['diff', 'differ'])), expected);
      // A container that changed nothing: no lines (the API answers null, as dockerd).
      await ok(docker(daemon, ['create', '--name', 'unchanged', 'busybox']));
      assert.equal(await ok(docker(daemon, ['diff', 'unchanged'])), '');
      const missing = await docker(daemon, ['diff', 'nosuch']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /No such container: nosuch/);
      await ok(docker(daemon, ['rm', '-f', 'differ', 'unchanged']));
    });

    test('commit adds one layer of the diff and a history entry; the image runs and sees the changes', async () => {
      await ok(docker(daemon, ['run', '--name', 'changer', '--network', 'none', 'busybox', 'sh', '-c', CHANGE_SCRIPT]));
      const base = JSON.parse(await ok(docker(daemon, ['image', 'inspect', 'busybox'])))[0];
      const id = (
        await ok(
          docker(daemon, [
            'commit',
            '-a', 'Ann Author <ann@example.com>',
            '-m', 'the message',
            '-c', 'ENV COMMITTED=yes',
            '-c', 'CMD ["cat", "/new/f"]',
            '-c', 'LABEL stage=one',
            '-c', 'EXPOSE 8080',
            '-c', 'WORKDIR /new',
            '-c', 'USER 1:1',
            '-c', 'STOPSIGNAL SIGUSR1',
            '-c', 'VOLUME /data',
            '-c', 'ENTRYPOINT []',
            '-c', 'ONBUILD RUN true',
            '-c', 'HEALTHCHECK --interval=5s CMD true',
            'changer',
            'snap:one',
          ]),
        )
      ).trim();
      assert.match(id, /^sha256:[0-9a-f]{64}$/);
      const image = JSON.parse(await ok(docker(daemon, ['image', 'inspect', 'snap:one'])))[0];
      assert.equal(image.Id, id);
      assert.deepEqual(image.RepoTags, ['snap:one']);
      assert.equal(image.Parent, base.Id);
      assert.equal(image.Author, 'Ann Author <ann@example.com>');
      assert.deepEqual(image.RootFS.Layers.slice(0, -1), base.RootFS.Layers);
      assert.equal(image.RootFS.Layers.length, base.RootFS.Layers.length + 1);
      assert.ok(image.Size > base.Size);
      assert.equal(image.Config.Env.at(-1), 'COMMITTED=yes');
      assert.ok(image.Config.Env.some((entry: string) => entry.startsWith('PATH=')), 'the container environment is kept');
      assert.deepEqual(image.Config.Cmd, ['cat', '/new/f']);
      assert.deepEqual(image.Config.Labels, { stage: 'one' });
      assert.deepEqual(image.Config.ExposedPorts, { '8080/tcp': {} });
      assert.equal(image.Config.WorkingDir, '/new');
      assert.equal(image.Config.User, '1:1');
      assert.equal(image.Config.StopSignal, 'SIGUSR1');
      assert.deepEqual(image.Config.Volumes, { '/data': {} });
      assert.deepEqual(image.Config.OnBuild, ['RUN true']);
      assert.deepEqual(await topLayerEntries(daemon, id), EXPECTED_LAYER);

      const lines = await ok(docker(daemon, ['history', '--format', 'json', '--no-trunc', 'snap:one']));
      const history = lines.split('\n').filter(Boolean).map((line) => JSON.parse(line));
      assert.equal(history.length, base.RootFS.Layers.length + 1);
      assert.equal(history[0].ID, id);
      assert.equal(history[0].CreatedBy, `sh -c ${CHANGE_SCRIPT}`);
      assert.equal(history[0].Comment, 'the message');
      assert.equal(history[1].ID, base.Id);

      // The new image runs as committed and sees the changes.
      assert.equal(await ok(docker(daemon, ['run', '--rm', '--network', 'none', '--user', '0', '--entrypoint', '', 'snap:one', 'cat', '/new/f'])), 'x\n');
      const seen = await ok(
        docker(daemon, ['run', '--rm', '--network', 'none', '--user', '0', 'snap:one', 'sh', '-c', 'ls /bin/ls /home 2>&1; tail -1 /etc/passwd; echo $COMMITTED; pwd']),
      );
      assert.match(seen, /\/bin\/ls: No such file or directory/);
      assert.match(seen, /\/home: No such file or directory/);
      assert.match(seen, /extra\nyes\n\/new\n$/);
      await ok(docker(daemon, ['rm', 'changer']));
    });

    test('names that are not UTF-8: diff shows them as dockerd does; commit keeps their bytes, deletions included', async () => {
      await ok(docker(daemon, ['run', '--name', 'rawnames', '--network', 'none', 'busybox', 'sh', '-c', RAW_NAMES_SCRIPT]));
      const expectedDiff = 'A /a\ufffdb\nA /c\ufffd\ufffd\nA /d\ufffd\nA /d\ufffd/f\ufffd\n';
      assert.equal(await ok(docker(daemon, ['diff', 'rawnames'])), expectedDiff);
      assert.equal((await daemon.berth(['diff', 'rawnames'])).stdout, expectedDiff);
      // Their disk use is measured (each name found by its bytes).
      assert.match(await ok(docker(daemon, ['ps', '-a', '-s', '--filter', 'name=rawnames', '--format', '{{.Size}}'])), /^0B \(virtual /);
      const added = (await ok(docker(daemon, ['commit', 'rawnames', 'raw:one']))).trim();
      // The layer's tar names the files with their bytes (in PAX path records: they are not ASCII).
      assert.deepEqual(tarNamesAsBytes(await readFile(await topLayerBlob(daemon, added))), ['a\xffb', 'c\xe2\x82', 'd\xfe/', 'd\xfe/f\xff']);
      // A container of the image finds them by their bytes.
      const seen = await ok(docker(daemon, ['run', '--rm', '--network', 'none', 'raw:one', 'sh', '-c', "printf '%s\\n' /a* /c* /d?/* | od -An -tx1"]));
      assert.equal(seen.replace(/\s+/g, ' ').trim(), '2f 61 ff 62 0a 2f 63 e2 82 0a 2f 64 fe 2f 66 ff 0a');

      // Deleted from the image's layer: whiteouts named with the bytes, and the next image lacks them.
      await ok(docker(daemon, ['run', '--name', 'rawdeleter', '--network', 'none', 'raw:one', 'sh', '-c', "rm \"$(printf '/a\\377b')\" && rm -r \"$(printf '/d\\376')\""]));
      assert.equal(await ok(docker(daemon, ['diff', 'rawdeleter'])), 'D /a\ufffdb\nD /d\ufffd\n');
      const deleted = (await ok(docker(daemon, ['commit', 'rawdeleter', 'raw:two']))).trim();
      assert.deepEqual(tarNamesAsBytes(await readFile(await topLayerBlob(daemon, deleted))), ['.wh.a\xffb', '.wh.d\xfe']);
      const left = await ok(docker(daemon, ['run', '--rm', '--network', 'none', 'raw:two', 'sh', '-c', "printf '%s\\n' /a* /c* /d?/* | od -An -tx1"]));
      // The unmatched globs stay as they are written: /a* and /d?/*.
      assert.equal(left.replace(/\s+/g, ' ').trim(), '2f 61 2a 0a 2f 63 e2 82 0a 2f 64 3f 2f 2a 0a');
      await ok(docker(daemon, ['rm', 'rawnames', 'rawdeleter']));
      await ok(docker(daemon, ['rmi', 'raw:two', 'raw:one']));
    });

    test('commit pauses a running container unless --pause=false, and a commit of nothing adds an empty history entry', async () => {
      await ok(docker(daemon, ['run', '-d', '--name', 'live', '--network', 'none', 'busybox', 'sleep', '600']));
      const since = (Date.now() / 1000).toFixed(3);
      const paused = (await ok(docker(daemon, ['commit', 'live']))).trim();
      const unpaused = (await daemon.berth(['commit', '--pause=false', 'live', 'live:nopause'])).stdout.trim();
      const until = String(Math.floor(Date.now() / 1000) + 1);
      const events = await ok(docker(daemon, ['events', '--since', since, '--until', until, '--filter', 'container=live', '--filter', 'type=container', '--format', '{{.Action}}']));
      assert.equal(events, 'pause\nunpause\ncommit\ncommit\n');
      assert.equal(JSON.parse(await ok(docker(daemon, ['inspect', '-f', '{{json .State.Paused}}', 'live']))), false);
      // Nothing changed in `live`: no layer is added, and the entry says the layer is empty.
      for (const id of [paused, unpaused]) {
        const [image] = JSON.parse(await ok(docker(daemon, ['image', 'inspect', id])));
        const base = JSON.parse(await ok(docker(daemon, ['image', 'inspect', 'busybox'])))[0];
        assert.deepEqual(image.RootFS.Layers, base.RootFS.Layers);
      }
      const top = (await ok(docker(daemon, ['history', '-H=false', '--format', '{{.Size}} {{.CreatedBy}}', unpaused]))).split('\n')[0];
      assert.equal(top, '0 sleep 600');
      // The tar of nothing was stored on the way; no image refers to it, so it is gone.
      const emptyTar = join(daemon.dataRoot, 'content', 'blobs', 'sha256', '5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef');
      assert.equal(existsSync(emptyTar), false);
      await ok(docker(daemon, ['rm', '-f', 'live']));
      await ok(docker(daemon, ['rmi', paused, 'live:nopause']));
    });
  });
}
