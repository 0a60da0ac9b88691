/**
 * The exec endpoints: POST /containers/{id}/exec, POST /exec/{id}/start (hijacked with
 * `Upgrade: tcp`, taken over without it as dockerd does, or answered at once with Detach), GET /exec/{id}/json, POST /exec/{id}/resize.
 */
import type { Duplex, Writable } from 'node:stream';
import { invalidParameter } from '../../common/errors.js';
import type { AttachClient } from '../../engine/containers/attach-hub.js';
import type { ExecOptions } from '../../engine/containers/exec-config.js';
import type { ExecInstance, ExecService, StartedExec } from '../../engine/containers/exec-service.js';
import type { ExecCreateResponse, ExecInspectResponse } from '../../wire/exec.js';
import { decodeResize } from '../decode/container-queries.js';
import { decodeExecCreate, decodeExecStart } from '../decode/exec.js';
import type { JsonObject } from '../decode/json-fields.js';
import { readJson, sendEmpty, sendJson } from '../http.js';
import type { Handler, RouteTable, UpgradeContext, UpgradeHandler } from '../router.js';
import { frame, outputContentType, streamNumber } from '../stream-framing.js';

// As for attach: output a client does not read piles up in its socket; one this far behind is cut.
const MAX_UNREAD_OUTPUT = 8 << 20;
const MAX_START_BODY = 1 << 20;

function execInspect(exec: ExecInstance): ExecInspectResponse {
  const { options } = exec;
  return {
    ID: exec.id,
    Running: exec.running,
    ExitCode: exec.exitCode,
    ProcessConfig: {
      tty: options.tty,
      entrypoint: options.cmd[0] ?? '',
      arguments: options.cmd.slice(1),
      privileged: options.privileged,
      ...(options.user ? { user: options.user } : {}),
    },
    OpenStdin: options.attachStdin,
    OpenStderr: options.attachStderr,
    OpenStdout: options.attachStdout,
    CanRemove: false,
    ContainerID: exec.containerId,
    DetachKeys: options.detachKeys,
    Pid: exec.pid,
  };
}

export function execRoutes(routes: RouteTable<Handler>, upgrades: RouteTable<UpgradeHandler>, execs: ExecService): void {
  routes.add('POST', '/containers/{id}/exec', async ({ req, res, params }) => {
    const exec = execs.create(params.id, decodeExecCreate(await readJson(req)));
    sendJson(res, 201, { Id: exec.id } satisfies ExecCreateResponse);
  });

  routes.add('POST', '/exec/{id}/start', async ({ req, res, params, version }) => {
    const start = decodeExecStart(await readJson(req));
    const exec = execs.inspect(params.id);
    if (start.detach) {
      await execs.start(params.id, start.consoleSize);
      return sendEmpty(res, 200);
    }
    // Without an upgrade dockerd takes the connection over all the same: a 200 whose body is the
    // raw output until the process ends. The request's body was the JSON, so there is no stdin.
    res.writeHead(200, { 'Content-Type': outputContentType(exec.options.tty, version), Connection: 'close' });
    res.flushHeaders();
    req.socket.setTimeout(0);
    const started = await startStreaming(execs, params.id, start.consoleSize, res);
    if (!started) return;
    started.stdin?.end();
    if (res.destroyed) started.detachClient();
    else res.once('close', started.detachClient);
  });

  upgrades.add('POST', '/exec/{id}/start', (ctx) => hijackExecStart(ctx, execs));

  routes.add('GET', '/exec/{id}/json', async ({ res, params }) => {
    sendJson(res, 200, execInspect(execs.inspect(params.id)));
  });

  routes.add('POST', '/exec/{id}/resize', async ({ res, params, query }) => {
    const { height, width } = decodeResize(query);
    await execs.resize(params.id, height, width);
    sendEmpty(res, 200);
  });
}

/**
 * An upgraded request's body arrives on the raw connection (Node's parser stops after the
 * headers): `Content-Length` bytes of it, read from `head` and then the socket. What follows is
 * the client's first stdin.
 */
async function readUpgradeBody(ctx: UpgradeContext): Promise<{ body: JsonObject; rest: Buffer }> {
  const { req, socket } = ctx;
  if (req.headers['transfer-encoding']) throw invalidParameter('a chunked body cannot come with a connection upgrade');
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_START_BODY) throw invalidParameter('invalid Content-Length');
  let received = ctx.head;
  while (received.length < length) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (data: Buffer) => done(data);
      const onEnd = () => done(null);
      const done = (data: Buffer | null) => {
        socket.off('data', onData).off('end', onEnd).off('close', onEnd);
        socket.pause();
        resolve(data);
      };
      socket.on('data', onData).once('end', onEnd).once('close', onEnd);
      socket.resume();
    });
    if (!chunk) throw invalidParameter('the request body ended early');
    received = Buffer.concat([received, chunk]);
  }
  const text = received.subarray(0, length).toString('utf8').trim();
  let body: unknown = {};
  try {
    if (text !== '') body = JSON.parse(text);
  } catch {
    throw invalidParameter(`invalid JSON body`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidParameter('the body must be a JSON object');
  return { body: body as JsonObject, rest: received.subarray(length) };
}

/**
 * POST /exec/{id}/start with `Upgrade: tcp`. As moby: an unknown exec is an HTTP 404; after the
 * 101 a failure to start is written into the stream as text (the client then inspects the exec
 * for its exit code). Output goes out framed (raw with a TTY); stdin comes in raw and the
 * client's half-close is its EOF. A client that goes away leaves the process running.
 */
async function hijackExecStart(ctx: UpgradeContext, execs: ExecService): Promise<void> {
  const { socket, params, version } = ctx;
  const { body, rest } = await readUpgradeBody(ctx);
  const start = decodeExecStart(body);
  const exec = execs.inspect(params.id);
  if (start.detach) {
    await execs.start(params.id, start.consoleSize);
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${outputContentType(exec.options.tty, version)}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  const started = await startStreaming(execs, params.id, start.consoleSize, socket);
  if (!started) return;
  const { stdin, detachClient } = started;
  if (socket.destroyed) detachClient();
  else socket.once('close', detachClient);
  if (!stdin) {
    socket.resume(); // anything sent is ignored; the half-close that follows is expected
    return;
  }
  const write = (chunk: Buffer) => new Promise<void>((resolve, reject) => stdin.write(chunk, (err) => (err ? reject(err) : resolve())));
  if (rest.length > 0) write(rest).catch(() => {});
  pumpInput(socket, write, () => stdin.end());
}

/**
 * Starts the exec with its output going to `output`, framed without a TTY. As moby, once the answer
 * has begun a failure to start is written into the stream as text (the client then inspects the
 * exec for its exit code); undefined then.
 */
async function startStreaming(
  execs: ExecService,
  id: string,
  consoleSize: ExecOptions['consoleSize'],
  output: Writable,
): Promise<StartedExec | undefined> {
  const { options } = execs.inspect(id);
  const send = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
    if (output.destroyed) return;
    if (output.writableLength > MAX_UNREAD_OUTPUT) output.destroy();
    else output.write(options.tty ? chunk : frame(streamNumber(stream), chunk));
  };
  const client: AttachClient = { stdout: options.attachStdout, stderr: options.attachStderr, write: send, end: () => output.end() };
  try {
    return await execs.start(id, consoleSize, client);
  } catch (err) {
    send('stdout', Buffer.from(`${err instanceof Error ? err.message : String(err)}\r\n`));
    output.end();
    return undefined;
  }
}

/** Client bytes into the process's stdin, one write at a time; the client's half-close ends it. */
function pumpInput(socket: Duplex, write: (chunk: Buffer) => Promise<void>, onEnd: () => void): void {
  socket.on('data', (chunk: Buffer) => {
    socket.pause();
    // A process that closed its stdin takes no more: the rest is dropped, the output still flows.
    write(chunk).then(
      () => socket.resume(),
      () => socket.resume(),
    );
  });
  socket.once('end', onEnd);
  socket.resume();
}
