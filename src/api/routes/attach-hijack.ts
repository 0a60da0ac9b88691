/**
 * POST /containers/{id}/attach, as dockerd serves it: with `Upgrade: tcp` the connection is taken
 * over with a 101; without it (dockerode's default, older docker-py) the answer is a 200 whose
 * body is the raw stream until the connection closes, and stdin is the request body.
 *
 * Output goes out framed (or raw with a TTY); `logs=1` replays the log first. The client's end of
 * stdin is its EOF: it closes the container's stdin when StdinOnce without a TTY, else it ends
 * this attach (moby closes the attach's output "no matter what" when its stdin ends). On a TTY
 * attach the daemon watches stdin for the detach keys: the attach ends, the container runs on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { EscapeScanner } from '../../common/detach-keys.js';
import type { AttachClient, StreamName } from '../../engine/containers/attach-hub.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { ContainerService } from '../../engine/containers/service.js';
import { decodeAttachOptions, type AttachOptions } from '../decode/attach-query.js';
import type { Handler, RouteTable, UpgradeContext, UpgradeHandler } from '../router.js';
import { frame, outputContentType, streamNumber } from '../stream-framing.js';

// conmon's attach socket is never paused (runtime/attach-socket.ts), so output a client does not
// read piles up in its connection's buffer; a client this far behind is disconnected instead.
const MAX_UNREAD_OUTPUT = 8 << 20;

/** One attach connection, whichever way it was taken: output out, stdin in. */
interface AttachChannel {
  output: Writable;
  input: Readable;
  /** Stdin bytes that came in with the request head (upgrade only). */
  head: Buffer;
  /**
   * Leading bytes of the input that are the request's own body, not stdin: dockerode sends its
   * options as a JSON body with `Upgrade: tcp`, which dockerd never reads as stdin.
   */
  bodyLength: number;
  closed(callback: () => void): void;
}

export interface AttachDefaults {
  /** daemon.json `detach-keys`, else Ctrl-P Ctrl-Q. */
  detachKeys: string;
}

export function attachRoutes(routes: RouteTable<Handler>, upgrades: RouteTable<UpgradeHandler>, containers: ContainerService, defaults: AttachDefaults): void {
  upgrades.add('POST', '/containers/{id}/attach', (ctx) => attachUpgraded(ctx, containers, defaults));
  routes.add('POST', '/containers/{id}/attach', async ({ req, res, params, query }) => {
    const options = decodeAttachOptions(query, defaults.detachKeys);
    const record = containers.attachTarget(params.id);
    await serveAttach(containers, record, options, plainChannel(req, res));
  });
}

async function attachUpgraded(ctx: UpgradeContext, containers: ContainerService, defaults: AttachDefaults): Promise<void> {
  const { socket, query, params, version } = ctx;
  const options = decodeAttachOptions(query, defaults.detachKeys);
  const record = containers.attachTarget(params.id);
  socket.write(
    'HTTP/1.1 101 UPGRADED\r\n' +
      `Content-Type: ${outputContentType(record.config.Tty, version)}\r\n` +
      'Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
  );
  const closed = (callback: () => void) => (socket.destroyed ? callback() : socket.once('close', callback));
  const bodyLength = Number(ctx.req.headers['content-length'] ?? 0) || 0;
  await serveAttach(containers, record, options, { output: socket, input: socket, head: ctx.head, bodyLength, closed });
}

/**
 * The 200 answer: headers now, then the body unframed by HTTP (no length, no chunks: it ends when
 * the connection closes, as dockerd writes it). The request body is stdin, so the body timeout
 * (meant for uploads that stall) does not apply: an idle terminal is not a stalled upload.
 */
function plainChannel(req: IncomingMessage, res: ServerResponse): AttachChannel {
  res.removeHeader('Content-Length');
  res.removeHeader('Transfer-Encoding');
  res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream', Connection: 'close' });
  res.flushHeaders();
  req.socket.setTimeout(0);
  const closed = (callback: () => void) => (res.destroyed ? callback() : res.once('close', callback));
  return { output: res, input: req, head: Buffer.alloc(0), bodyLength: 0, closed };
}

async function serveAttach(containers: ContainerService, record: ContainerRecord, options: AttachOptions, channel: AttachChannel): Promise<void> {
  const { output } = channel;
  const tty = record.config.Tty;
  const send = (stream: StreamName, chunk: Buffer) => {
    if (output.destroyed) return;
    if (output.writableLength > MAX_UNREAD_OUTPUT) output.destroy();
    else output.write(tty ? chunk : frame(streamNumber(stream), chunk));
  };
  const client: AttachClient = { stdout: options.stdout, stderr: options.stderr, write: send, end: () => output.end() };
  if (options.logs) await replayLogs(containers, record, client, channel);
  containers.publishAttach(record, 'attach');
  if (!options.stream || output.destroyed) {
    output.end();
    return;
  }
  let attached;
  try {
    attached = await containers.attach(record, client);
  } catch {
    // The answer has begun: no HTTP error can be sent; most likely the container went meanwhile.
    output.end();
    return;
  }
  const { hub, detach } = attached;
  channel.closed(detach);
  const { input } = channel;
  if (!(options.stdin && record.config.OpenStdin)) {
    input.resume(); // ignore anything sent; the half-close that follows is expected
    return;
  }
  const escape = tty ? new EscapeScanner(options.detachKeys) : undefined;
  const feed = (chunk: Buffer): Promise<void> => {
    if (!escape) return hub.writeStdin(chunk);
    if (escape.detached) return Promise.resolve();
    const { pass, detached } = escape.scan(chunk);
    const written = pass.length > 0 ? hub.writeStdin(pass) : Promise.resolve();
    if (detached) {
      input.pause();
      detach();
      containers.publishAttach(record, 'detach');
      void written.finally(() => output.end());
    }
    return written;
  };
  const onEnd = () => {
    if (escape?.detached) return;
    if (record.config.StdinOnce && !tty) return hub.closeStdin();
    detach();
    output.end();
  };
  let body = channel.bodyLength;
  const stdinOnly = (chunk: Buffer): Promise<void> => {
    const skipped = Math.min(body, chunk.length);
    body -= skipped;
    return skipped === chunk.length ? Promise.resolve() : feed(chunk.subarray(skipped));
  };
  if (channel.head.length > 0) stdinOnly(channel.head).catch(() => output.destroy());
  pumpStdin(input, stdinOnly, onEnd, () => output.destroy());
}

/** The log so far, before live output (moby: a log driver that cannot be read says so in the stream). */
async function replayLogs(containers: ContainerService, record: ContainerRecord, client: AttachClient, channel: AttachChannel): Promise<void> {
  const abort = new AbortController();
  channel.closed(() => abort.abort());
  try {
    const { entries } = containers.logs(record.id, { stdout: client.stdout, stderr: client.stderr, follow: false }, abort.signal);
    for await (const entry of entries) {
      client.write(entry.stream, entry.payload);
      if (channel.output.destroyed) break;
    }
  } catch (err) {
    client.write('stdout', Buffer.from(`Error attaching: ${err instanceof Error ? err.message : String(err)}\n`));
  }
}

function pumpStdin(input: Readable, write: (chunk: Buffer) => Promise<void>, onEnd: () => void, onError: () => void): void {
  input.on('data', (chunk: Buffer) => {
    const accepted = write(chunk);
    input.pause();
    accepted.then(() => input.resume(), onError);
  });
  input.once('end', onEnd);
}
