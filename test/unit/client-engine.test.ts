/**
 * The client against a small Docker-protocol peer on a temporary unix socket: the peer answers
 * as dockerd does on the wire (101 hijack, multiplexed frames, wait headers before the body).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DaemonError,
  EngineClient,
  FrameDemuxer,
  FrameParser,
  ProgressStreamError,
  StreamType,
  encodeFrame,
  describeAddress,
  resolveDaemonAddress,
} from '../../src/client/index.js';

async function withPeer(
  onRequest: http.RequestListener,
  onUpgrade: (req: http.IncomingMessage, socket: Socket) => void,
  body: (client: EngineClient) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-client-'));
  const socketPath = join(dir, 'docker.sock');
  const server = http.createServer(onRequest);
  server.on('upgrade', (req, socket) => onUpgrade(req, socket as Socket));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const client = new EngineClient(socketPath);
  try {
    await body(client);
  } finally {
    client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

const noUpgrade = (_req: http.IncomingMessage, socket: Socket) => socket.destroy();

function collectInto(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

test('frames split anywhere across chunks are reassembled', () => {
  const bytes = Buffer.concat([encodeFrame(StreamType.Stdout, 'out1\n'), encodeFrame(StreamType.Stderr, 'err1\n')]);
  const parser = new FrameParser();
  const frames = [...bytes].flatMap((byte) => parser.push(Buffer.from([byte])));
  assert.deepEqual(
    frames.map((frame) => [frame.stream, frame.payload.toString()]),
    [
      [StreamType.Stdout, 'out1\n'],
      [StreamType.Stderr, 'err1\n'],
    ],
  );
  assert.equal(parser.bufferedLength, 0);
});

test('the demuxer writes stdout and stderr frames to their streams', async () => {
  const stdout = collectInto();
  const stderr = collectInto();
  const bytes = Buffer.concat([encodeFrame(StreamType.Stdout, 'hi\n'), encodeFrame(StreamType.Stderr, 'oops\n')]);
  await pipeline(Readable.from([bytes.subarray(0, 5), bytes.subarray(5, 13), bytes.subarray(13)]), new FrameDemuxer(stdout.stream, stderr.stream));
  assert.equal(stdout.text(), 'hi\n');
  assert.equal(stderr.text(), 'oops\n');
});

test('daemon errors carry the status and the message', async () => {
  await withPeer(
    (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"No such container: nosuch"}\n');
    },
    noUpgrade,
    async (client) => {
      await assert.rejects(client.inspectContainer('nosuch'), (err: unknown) => {
        assert.ok(err instanceof DaemonError);
        assert.equal(err.statusCode, 404);
        assert.equal(err.kind, 'not-found');
        assert.equal(err.message, 'No such container: nosuch');
        return true;
      });
    },
  );
});

test('attach hijacks the connection; stdin flows until the half-close, output keeps coming', async () => {
  let attachUrl = '';
  await withPeer(
    (_req, res) => res.end(),
    (req, socket) => {
      attachUrl = req.url ?? '';
      socket.write(
        'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
      );
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      // The client's half-close: echo what came, in a frame cut in two writes, then close.
      socket.on('end', () => {
        const frame = encodeFrame(StreamType.Stdout, Buffer.concat(received));
        socket.write(frame.subarray(0, 3));
        setTimeout(() => socket.end(frame.subarray(3)), 10);
      });
    },
    async (client) => {
      const socket = await client.attachContainer('c1', { stdin: true, stdout: true, stderr: true });
      assert.equal(attachUrl, '/v1.50/containers/c1/attach?stream=1&stdin=1&stdout=1&stderr=1');
      socket.end('hello\n');
      const stdout = collectInto();
      await pipeline(socket, new FrameDemuxer(stdout.stream, new PassThrough()));
      assert.equal(stdout.text(), 'hello\n');
    },
  );
});

test('wait resolves at the headers, before the body, which carries the exit code', async () => {
  let finishWait: () => void = () => undefined;
  await withPeer(
    (req, res) => {
      assert.equal(req.url, '/v1.50/containers/c1/wait?condition=next-exit');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      finishWait = () => res.end('{"Error":null,"StatusCode":3}\n');
    },
    noUpgrade,
    async (client) => {
      const wait = await client.waitContainer('c1', 'next-exit');
      let settled = false;
      void wait.result.then(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(settled, false);
      finishWait();
      assert.deepEqual(await wait.result, { Error: null, StatusCode: 3 });
    },
  );
});

test('import streams the tar chunked and reads the progress; an in-stream error throws', async () => {
  let received = '';
  let query = '';
  let transferEncoding: string | undefined;
  await withPeer(
    async (req, res) => {
      query = req.url ?? '';
      transferEncoding ??= req.headers['transfer-encoding'];
      for await (const chunk of req) received += String(chunk);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (query.includes('fromSrc')) res.end('{"status":"sha256:abc"}\r\n');
      else res.end('{"status":"Pulling from library/x","id":"1"}\r\n{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\r\n');
    },
    noUpgrade,
    async (client) => {
      const statuses: string[] = [];
      const tar = Readable.from([Buffer.from('tar-'), Buffer.from('bytes')]);
      for await (const message of client.importImage(tar, { repo: 'busybox', tag: 'latest', changes: ['CMD ["sh"]'] })) {
        statuses.push(message.status ?? '');
      }
      assert.deepEqual(statuses, ['sha256:abc']);
      assert.equal(received, 'tar-bytes');
      assert.equal(transferEncoding, 'chunked');
      assert.equal(query, '/v1.50/images/create?fromSrc=-&repo=busybox&tag=latest&changes=CMD+%5B%22sh%22%5D');
      await assert.rejects(async () => {
        for await (const message of client.pullImage({ fromImage: 'x', tag: '1' })) void message;
      }, ProgressStreamError);
    },
  );
});

test('events streams one event a line, split across chunks, with the exact timeNano', async () => {
  let query = '';
  await withPeer(
    (req, res) => {
      query = req.url ?? '';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // As dockerd: one JSON object a line, written as events happen (here split mid-line).
      res.write('{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"web"}},"scope":"local","time":1764480662,"timeNano":1764480662');
      res.write('123456789}\n{"Type":"image","Action":"tag","Actor":{"ID":"sha256:1"},"time":1764480663}\n');
      res.end();
    },
    noUpgrade,
    async (client) => {
      const events = [];
      for await (const event of client.events({ since: '1764480000', until: '1764480700', filters: { type: ['container'] } })) {
        events.push(event);
      }
      assert.equal(query, '/v1.50/events?since=1764480000&until=1764480700&filters=%7B%22type%22%3A%5B%22container%22%5D%7D');
      assert.deepEqual(events.map((event) => [event.message.Type, event.message.Action, event.timeNano]), [
        ['container', 'start', 1764480662123456789n],
        ['image', 'tag', 1764480663000000000n],
      ]);
      assert.equal(events[1]!.line, '{"Type":"image","Action":"tag","Actor":{"ID":"sha256:1"},"time":1764480663}');
    },
  );
});

test('the daemon is -H, then BERTH_HOST, then DOCKER_HOST, then berthd\'s socket; unix:// and tcp:// hosts', () => {
  assert.deepEqual(resolveDaemonAddress('unix:///a.sock', { BERTH_HOST: 'unix:///b.sock' }), { path: '/a.sock' });
  assert.deepEqual(resolveDaemonAddress(undefined, { BERTH_HOST: 'unix:///b.sock', DOCKER_HOST: 'unix:///c.sock' }), { path: '/b.sock' });
  assert.deepEqual(resolveDaemonAddress(undefined, { DOCKER_HOST: 'unix:///c.sock' }), { path: '/c.sock' });
  assert.deepEqual(resolveDaemonAddress(undefined, { BERTH_HOST: '', DOCKER_HOST: '' }), { path: '/run/berth/berth.sock' });
  assert.deepEqual(resolveDaemonAddress(undefined, { DOCKER_HOST: 'tcp://127.0.0.1:2380' }), { host: '127.0.0.1', port: 2380 });
  assert.deepEqual(resolveDaemonAddress('tcp://localhost', {}), { host: 'localhost', port: 2375 }, "the docker CLI's port without TLS");
  assert.deepEqual(resolveDaemonAddress('tcp://[::1]:2376/', {}), { host: '::1', port: 2376 });
  assert.equal(describeAddress({ host: '::1', port: 2376 }), 'tcp://[::1]:2376');
  assert.equal(describeAddress({ path: '/a.sock' }), 'unix:///a.sock');
  assert.throws(() => resolveDaemonAddress(undefined, { DOCKER_HOST: 'ssh://me@box' }), /unsupported host "ssh:\/\/me@box"/);
  assert.throws(() => resolveDaemonAddress('tcp://127.0.0.1:2375/prefix', {}), /invalid host/);
  assert.throws(() => resolveDaemonAddress(undefined, { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1' }), /DOCKER_TLS_VERIFY is set .*without TLS/);
});
