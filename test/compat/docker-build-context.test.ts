/**
 * The context tar `berth build` sends is byte for byte the one the docker CLI 28 sends for the
 * same directory (files, an executable, an empty file, a sticky directory, links, a fixed mtime,
 * .dockerignore with an exception), so that berthd recognises an unchanged context from either
 * client. The docker CLI's is captured by a stand-in daemon that keeps the body of POST /build.
 * Names too long for a ustar header, or not ASCII, take PAX headers and come out whole.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { packBuildContext } from '../../src/cli/build-context-tar.js';
import { DOCKER } from '../helpers/docker-cli.js';

const scratch = await mkdtemp(join(tmpdir(), 'berth-build-context-'));
after(() => rm(scratch, { recursive: true, force: true }));

async function packed(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of (await packBuildContext(dir, {})).tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The body the docker CLI sends for `docker build dir`, as a stand-in daemon receives it. */
async function dockerCliBody(dir: string): Promise<Buffer> {
  const socket = join(scratch, 'capture.sock');
  let body: Buffer | undefined;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.url?.includes('/build')) body = Buffer.concat(chunks);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(`{"aux":{"ID":"sha256:${'0'.repeat(64)}"}}\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    await new Promise<void>((resolve) => {
      execFile(DOCKER, ['build', '-q', dir], { env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_BUILDKIT: '0' } }, () => resolve());
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.ok(body, 'the docker CLI sent no build context');
  return body;
}

test('berth build sends the docker CLI’s bytes for the same context', async () => {
  const dir = join(scratch, 'context');
  await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
  await mkdir(join(dir, 'sticky'));
  await mkdir(join(dir, 'ignored'));
  await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY . /x\n');
  await writeFile(join(dir, 'sub', 'a.txt'), 'hello\n');
  await writeFile(join(dir, 'sub', 'deeper', 'block'), Buffer.alloc(1024, 7));
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'run.sh'), '#!/bin/sh\n');
  await chmod(join(dir, 'run.sh'), 0o755);
  await chmod(join(dir, 'sticky'), 0o1777);
  await symlink('sub/a.txt', join(dir, 'link'));
  await symlink('/etc/passwd', join(dir, 'out'));
  await writeFile(join(dir, 'ignored', 'x'), 'x');
  await writeFile(join(dir, 'keep.log'), 'k');
  await writeFile(join(dir, 'drop.log'), 'd');
  await writeFile(join(dir, '.dockerignore'), 'ignored\n*.log\n!keep.log\n');
  await utimes(join(dir, 'sub', 'a.txt'), new Date('2020-01-02T03:04:05.678Z'), new Date('2020-01-02T03:04:05.678Z'));

  const ours = await packed(dir);
  assert.ok(ours.equals(await dockerCliBody(dir)), 'the tars differ');
});

test('names a ustar header cannot hold go in PAX headers, with their contents', async () => {
  const dir = join(scratch, 'long');
  const deep = join('d'.repeat(60), 'e'.repeat(60));
  await mkdir(join(dir, deep), { recursive: true });
  await writeFile(join(dir, deep, 'file'), 'deep\n');
  await writeFile(join(dir, 'héllo'), 'accent\n');
  await symlink('l'.repeat(120), join(dir, 'longlink'));
  const entries: Record<string, string> = {};
  const reader = extract();
  const reading = (async () => {
    for await (const entry of reader) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries[entry.header.name] = entry.header.type === 'symlink' ? `-> ${entry.header.linkname}` : Buffer.concat(chunks).toString();
    }
  })();
  reader.end(await packed(dir));
  await reading;
  assert.equal(entries[`${deep}/file`], 'deep\n');
  assert.equal(entries['héllo'], 'accent\n');
  assert.equal(entries.longlink, `-> ${'l'.repeat(120)}`);
});
