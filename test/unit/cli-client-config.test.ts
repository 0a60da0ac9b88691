/** The docker CLI's client configuration as berth reads it: where it is, config.json, its effects. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readClientConfig, resolveConfigDir } from '../../src/cli/client-config.js';
import { createContext } from '../../src/cli/context.js';
import { chosenDetachKeys } from '../../src/cli/detach-keys.js';

async function withDir(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
  try {
    await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the directory is --config, then DOCKER_CONFIG, then ~/.docker', () => {
  assert.equal(resolveConfigDir('/given', { DOCKER_CONFIG: '/env' }), '/given');
  assert.equal(resolveConfigDir(undefined, { DOCKER_CONFIG: '/env' }), '/env');
  assert.equal(resolveConfigDir(undefined, {}), join(homedir(), '.docker'));
});

test('no config.json is an empty configuration; a broken one is a warning and the defaults', async () => {
  await withDir(async (dir) => {
    const warnings: string[] = [];
    assert.deepEqual(readClientConfig(dir, (text) => warnings.push(text)), {});
    assert.equal(warnings.length, 0);
    await writeFile(join(dir, 'config.json'), '{"psFormat": ');
    assert.deepEqual(readClientConfig(dir, (text) => warnings.push(text)), {});
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`^WARNING: Error loading config file: ${join(dir, 'config.json')}: `));
    await writeFile(join(dir, 'config.json'), '["not", "an", "object"]');
    assert.deepEqual(readClientConfig(dir, () => undefined), {});
  });
});

test('the context reads config.json from --config once: detachKeys as the default, HttpHeaders on every request', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-x,x', HttpHeaders: { 'X-Meta': 'from-config' } }));
    const socket = join(dir, 'daemon.sock');
    const heads: string[] = [];
    const server = createServer((connection) => {
      connection.once('data', (data) => {
        heads.push(data.toString('latin1'));
        connection.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    const ctx = createContext(() => `unix://${socket}`, () => dir);
    try {
      assert.equal(ctx.configDir(), dir);
      assert.equal(chosenDetachKeys(ctx, undefined), 'ctrl-x,x');
      assert.equal(chosenDetachKeys(ctx, 'ctrl-a'), 'ctrl-a');
      await ctx.client().version();
      assert.match(heads[0]!, /\r\nX-Meta: from-config\r\n/);
      assert.match(heads[0]!, /\r\nUser-Agent: Berth-Client\//);
    } finally {
      ctx.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
