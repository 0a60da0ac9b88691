import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PassThrough } from 'node:stream';
import { EngineClient } from '../../src/client/index.js';
import { packBusyboxRootfs } from '../../src/bootstrap/busybox-rootfs.js';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';

const exec = promisify(execFile);

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** Half of a busybox rootfs tar, then silence: the import is mid-stream when berthd dies. */
async function halfTar(): Promise<PassThrough> {
  const chunks: Buffer[] = [];
  for await (const chunk of packBusyboxRootfs()) chunks.push(chunk as Buffer);
  const whole = Buffer.concat(chunks);
  const stream = new PassThrough();
  stream.write(whole.subarray(0, Math.floor(whole.length / 2)));
  return stream;
}

describe('kill -9 of berthd in the middle of an operation', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startDaemon();
  });
  after(async () => {
    await daemon?.stop();
  });

  test('an import cut short leaves no image, layer or blob behind, and the next one works', async () => {
    const client = new EngineClient(daemon.socket);
    const body = await halfTar();
    const importing = (async () => {
      for await (const _ of client.importImage(body, { repo: 'cut', tag: 'short' })) void _;
    })();
    importing.catch(() => {}); // the daemon dies under it
    await new Promise((r) => setTimeout(r, 500));
    daemon.process.kill('SIGKILL');
    await new Promise((r) => daemon.process.once('exit', r));
    await assert.rejects(importing);
    client.close();
    body.destroy();

    await daemon.restart();
    assert.equal((await daemon.berth(['images', '-q'])).stdout, '');
    assert.deepEqual(await entries(join(daemon.dataRoot, 'layers', 'layers')), []);
    assert.deepEqual(await entries(join(daemon.dataRoot, 'layers', 'pending')), []);
    assert.deepEqual(await entries(join(daemon.dataRoot, 'overlay')), ['l']);
    assert.deepEqual(await entries(join(daemon.dataRoot, 'overlay', 'l')), []);
    assert.deepEqual(await entries(join(daemon.dataRoot, 'content', 'blobs', 'sha256')), []);

    await daemon.berth(['image', 'busybox']);
    assert.equal((await daemon.berth(['run', '--rm', 'busybox', 'echo', 'intact'])).stdout, 'intact\n');
  });

  test('a running container survives a kill -9 of berthd and is still managed after restart', async () => {
    await daemon.berth(['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'echo before; sleep 300']);
    daemon.process.kill('SIGKILL');
    await new Promise((r) => daemon.process.once('exit', r));
    await daemon.restart();
    const [inspect] = JSON.parse((await daemon.berth(['inspect', 'survivor'])).stdout);
    assert.equal(inspect.State.Running, true);
    assert.equal((await daemon.berth(['logs', 'survivor'])).stdout, 'before\n');
    await daemon.berth(['stop', '-t', '0', 'survivor']);
    const [stopped] = JSON.parse((await daemon.berth(['inspect', 'survivor'])).stdout);
    assert.equal(stopped.State.ExitCode, 137);
    await daemon.berth(['rm', 'survivor']);
  });

  test('a container left frozen by a kill -9 mid-commit (which pauses it) is thawed at restart: it runs, and rm -f ends it', async () => {
    await daemon.berth(['run', '-d', '--name', 'frozen', '--network', 'none', 'busybox', 'sleep', '300']);
    const [before] = JSON.parse((await daemon.berth(['inspect', 'frozen'])).stdout);
    // What a commit does before reading the layer, done by hand: berthd dies before it resumes.
    await exec('crun', ['--root', join(daemon.execRoot, 'runtime', 'crun'), 'pause', before.Id]);
    daemon.process.kill('SIGKILL');
    await new Promise((r) => daemon.process.once('exit', r));
    await daemon.restart();
    const state = (await exec('crun', ['--root', join(daemon.execRoot, 'runtime', 'crun'), 'state', before.Id])).stdout;
    assert.equal(JSON.parse(state).status, 'running');
    assert.equal((await daemon.berth(['exec', 'frozen', 'echo', 'thawed'])).stdout, 'thawed\n');
    await daemon.berth(['rm', '-f', 'frozen']);
  });

  test('a container layer whose container is gone (a crash during rm) is swept at start', async () => {
    const id = (await daemon.berth(['create', 'busybox', 'true'])).stdout.trim();
    assert.ok((await entries(join(daemon.dataRoot, 'layers', 'containers'))).includes(`${id}.json`));
    daemon.process.kill('SIGKILL');
    await new Promise((r) => daemon.process.once('exit', r));
    // What a crash right after the record was deleted leaves: the layer, without its container.
    await rm(join(daemon.dataRoot, 'containers', id, 'config.v2.json'));
    await daemon.restart();
    assert.equal((await daemon.berth(['ps', '-aq'])).stdout, '');
    assert.deepEqual(await entries(join(daemon.dataRoot, 'layers', 'containers')), []);
    assert.ok(!(await entries(join(daemon.dataRoot, 'overlay'))).includes(id));
  });
});
