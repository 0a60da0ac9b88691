/**
 * Keeps berthd reachable under a flood of connections that never finish a request: request
 * headers must arrive within a timeout (dockerd's ReadHeaderTimeout), idle keep-alive connections
 * are closed, and the number of open connections is capped below the file descriptor limit. At the
 * cap the oldest connection that is not in a request (half-sent or idle) makes room for the new
 * one, so a flood delays new clients but cannot lock them out.
 */
import { readFileSync } from 'node:fs';
import type { Server, ServerOptions, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Time allowed for a request's headers to arrive. */
  headersTimeoutMs: number;
  /** Time an idle keep-alive connection stays open between requests. */
  idleTimeoutMs: number;
  maxConnections: number;
}

/** The soft RLIMIT_NOFILE, which Node cannot read directly. */
function openFileLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = Number(limits.match(/^Max open files\s+(\d+)/m)?.[1]);
  return Number.isFinite(soft) && soft > 0 ? soft : 1024;
}

/** A quarter of the descriptors stay for containers, logs, layers and conmon pipes. */
export function defaultConnectionLimits(): ConnectionLimits {
  return { headersTimeoutMs: 60_000, idleTimeoutMs: 5_000, maxConnections: Math.floor(openFileLimit() * 0.75) };
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
