import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineClient } from '../../src/client/index.js';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

describe('TTY size through the API', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  let client: EngineClient;
  before(async () => {
    daemon = await startDaemon();
    await daemon.berth(['image', 'busybox']);
    client = new EngineClient(daemon.socket);
  });
  after(async () => {
    client?.close();
    await daemon?.stop();
  });

  test('ConsoleSize applies before the process runs, and resize changes it while it runs', async () => {
    const { Id } = await client.createContainer({
      Image: 'busybox',
      Cmd: ['sh', '-c', 'stty size; sleep 1; stty size'],
      Tty: true,
      HostConfig: { ConsoleSize: [24, 80] },
    } as Parameters<EngineClient['createContainer']>[0]);
    const wait = await client.waitContainer(Id, 'next-exit');
    await client.startContainer(Id);
    await new Promise((r) => setTimeout(r, 400));
    await client.resizeContainer(Id, { height: 40, width: 120 });
    assert.equal((await wait.result).StatusCode, 0);
    const logs = await readAll(await client.containerLogs(Id, { stdout: true, stderr: true }));
    assert.equal(logs, '24 80\r\n40 120\r\n');
    await assert.rejects(client.resizeContainer(Id, { height: 1, width: 1 }), /is not running/);
    await client.removeContainer(Id);
  });
});
