/**
 * Keeps berthd reachable under a flood of connections that never finish a request: request
 * headers must arrive within a timeout (dockerd's ReadHeaderTimeout), a request body that stops
 * arriving is cut after a long idle time, idle keep-alive connections are closed, and the number
 * of open connections is capped below the file descriptor limit. At the cap the oldest connection
 * that is not in a request (half-sent or idle) makes room for the new one, so a flood delays new
 * clients but cannot lock them out.
 */
import { readFileSync } from 'node:fs';
import type { Server, ServerOptions, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { invalidParameter } from '../common/errors.js';

export interface ConnectionLimits {
  /** Time allowed for a request's headers to arrive. */
  headersTimeoutMs: number;
  /** Time an idle keep-alive connection stays open between requests. */
  idleTimeoutMs: number;
  maxConnections: number;
  /**
   * Time a request body may go without a byte arriving while berthd is waiting for it. dockerd
   * has no body timeout at all (an import may legitimately be slow), so this is generous.
   */
  bodyIdleTimeoutMs: number;
}

/** Environment override of bodyIdleTimeoutMs (milliseconds), for tests of stalled bodies. */
export const BODY_IDLE_TIMEOUT_ENV = 'BERTH_BODY_IDLE_TIMEOUT_MS';
const DEFAULT_BODY_IDLE_TIMEOUT_MS = 5 * 60_000;

function bodyIdleTimeoutMs(env: NodeJS.ProcessEnv): number {
  const value = Number(env[BODY_IDLE_TIMEOUT_ENV]);
  return env[BODY_IDLE_TIMEOUT_ENV] !== undefined && Number.isInteger(value) && value > 0 ? value : DEFAULT_BODY_IDLE_TIMEOUT_MS;
}

/** The soft RLIMIT_NOFILE, which Node cannot read directly. */
function openFileLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = Number(limits.match(/^Max open files\s+(\d+)/m)?.[1]);
  return Number.isFinite(soft) && soft > 0 ? soft : 1024;
}

/** A quarter of the descriptors stay for containers, logs, layers and conmon pipes. */
export function defaultConnectionLimits(env: NodeJS.ProcessEnv = process.env): ConnectionLimits {
  return {
    headersTimeoutMs: 60_000,
    idleTimeoutMs: 5_000,
    maxConnections: Math.floor(openFileLimit() * 0.75),
    bodyIdleTimeoutMs: bodyIdleTimeoutMs(env),
  };
}

export function serverOptions(limits: ConnectionLimits): ServerOptions {
  return {
    // Whole requests are unbounded (an import streams gigabytes); only their headers are timed.
    requestTimeout: 0,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    // Node checks header timeouts on this interval; the default (30 s) would stretch short ones.
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** Caps open connections; at the cap, the oldest one not inside a request is closed first. */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  // Sockets not inside a request, oldest first (a Map keeps insertion order).
  const waiting = new Map<Socket, true>();
  let open = 0;
  server.on('connection', (socket: Socket) => {
    if (open >= limits.maxConnections) {
      const oldest = waiting.keys().next();
      if (oldest.done) {
        socket.destroy();
        return;
      }
      waiting.delete(oldest.value);
      oldest.value.destroy();
    }
    open++;
    waiting.set(socket, true);
    socket.once('close', () => {
      open--;
      waiting.delete(socket);
    });
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    waiting.delete(socket);
    res.once('close', () => {
      if (!socket.destroyed) waiting.set(socket, true);
    });
  });
  // A hijacked connection (attach) is in its request for as long as it lives.
  server.on('upgrade', (req: IncomingMessage) => waiting.delete(req.socket));
}

/**
 * Cuts a request whose body stops arriving: no byte for `bodyIdleTimeoutMs` while the handler is
 * waiting for one. Bytes berthd has not read yet (its consumer is busy, or queued) are berthd's
 * delay, not the client's, and never count against it. Destroying the request fails its handler
 * (an import then cleans up) and closes the connection.
 */
export function limitBodyIdleTime(server: Server, limits: Pick<ConnectionLimits, 'bodyIdleTimeoutMs'>): void {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.complete || !hasBody(req)) return;
    const socket = req.socket;
    // Heard through the response: Node emits a socket's timeout on the request only until the
    // body is complete, and closes a socket whose timeout nobody hears.
    const onTimeout = () => {
      if (req.destroyed) return;
      if (req.complete) return disarm();
      if (req.readableLength > 0) return socket.setTimeout(limits.bodyIdleTimeoutMs);
      req.destroy(invalidParameter(`request body timed out: no data for ${limits.bodyIdleTimeoutMs / 1000} s`));
    };
    const disarm = () => {
      res.off('timeout', onTimeout);
      // Once the response is finished the socket's timer is Node's keep-alive timeout: kept.
      if (!socket.destroyed && !res.writableFinished) socket.setTimeout(0);
    };
    // The socket's idle timer: any byte read from the client re-arms it.
    res.on('timeout', onTimeout);
    socket.setTimeout(limits.bodyIdleTimeoutMs);
    req.once('end', disarm);
    res.once('close', disarm);
  });
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
