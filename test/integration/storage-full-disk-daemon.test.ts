/**
 * Issue 12's full-disk reproduction through berthd: a 20 MB tmpfs data root, an image, the disk
 * filled, `docker create` refused with "no space left on device", berthd restarted (while full,
 * then with the space freed) and working.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { packBusyboxRootfs } from '../../src/bootstrap/busybox-rootfs.js';
import { errnoCode } from '../../src/common/errors.js';
import { mount } from '../../src/native/index.js';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';

const run = promisify(execFile);
const DOCKER = '/usr/local/bin/docker';

let daemon: TestDaemon;

before(async () => {
  daemon = await startDaemon();
  // The idle daemon is restarted onto a small tmpfs; stop() unmounts everything under its roots.
  mount('tmpfs', daemon.dataRoot, 'tmpfs', 0, 'size=20m,mode=0710');
  await daemon.restart();
});
after(async () => {
  await daemon?.stop();
});

const docker = (args: string[]) => run(DOCKER, args, { env: daemon.env });

async function fill(path: string): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (const chunk = Buffer.alloc(1 << 20, 1); ; ) await file.write(chunk);
  } catch (err) {
    if (errnoCode(err) !== 'ENOSPC') throw err;
  } finally {
    await file.close();
  }
}

test('a full data root refuses docker create with "no space left on device" and berthd restarts', { timeout: 120_000 }, async () => {
  const tar = join(daemon.dataRoot, '..', 'busybox.tar');
  await pipeline(packBusyboxRootfs(), createWriteStream(tar));
  await docker(['import', '-c', 'CMD ["sh"]', tar, 'busybox:latest']);
  await rm(tar);

  const filler = join(daemon.dataRoot, 'filler');
  await fill(filler);
  await assert.rejects(docker(['create', 'busybox', 'true']), (err: { stderr?: string }) => {
    assert.match(err.stderr ?? '', /no space left on device/);
    return true;
  });

  await daemon.restart(); // still full: recovery must not stop it
  await docker(['version']);
  await rm(filler);
  await daemon.restart();
  const { stdout } = await docker(['create', 'busybox', 'true']);
  await docker(['rm', stdout.trim()]);
  const images = await docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.equal(images.stdout.trim(), 'busybox:latest');
});
