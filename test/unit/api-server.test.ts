import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiServer, type ApiEngine } from '../../src/api/server.js';
import { createLogger } from '../../src/common/logger.js';
import { invalidParameter } from '../../src/common/errors.js';
import { rawRequest } from '../helpers/http.js';

test('an internal failure is a 500 logged at error level with its stack; a refused request only at debug', async () => {
  const lines: string[] = [];
  const images = {
    list: () => {
      throw new TypeError("Cannot read properties of undefined (reading 'config')");
    },
    inspect: () => {
      throw invalidParameter('invalid reference format');
    },
  };
  // Only the image routes are called here; the other services are never reached.
  const engine = { images, containers: {}, system: {}, events: {}, storageDriverName: 'vfs' } as unknown as ApiEngine;
  const server = createApiServer(engine, createLogger('debug', (line) => lines.push(line)));
  const dir = await mkdtemp(join(tmpdir(), 'berth-server-'));
  const socket = join(dir, 'api.sock');
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    const failed = await rawRequest(socket, 'GET', '/images/json');
    assert.equal(failed.status, 500);
    assert.deepEqual(JSON.parse(failed.body), { message: "Cannot read properties of undefined (reading 'config')" });
    const refused = await rawRequest(socket, 'GET', '/images/X/json');
    assert.equal(refused.status, 400);
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request failed');
    assert.deepEqual(logged.map((l) => [l.level, l.url]), [['error', '/images/json'], ['debug', '/images/X/json']]);
    assert.match(logged[0].err.stack, /TypeError: Cannot read properties[^]*at Object\.list/);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});
