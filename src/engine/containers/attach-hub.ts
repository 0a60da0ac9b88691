import type { AttachConnection } from '../../runtime/conmon.js';

export type StreamName = 'stdout' | 'stderr';

/** One attached client (an HTTP hijacked connection, or a test). */
export interface AttachClient {
  stdout: boolean;
  stderr: boolean;
  write(stream: StreamName, chunk: Buffer): void;
  end(): void;
}

// Stdin that arrives before the process runs is held here (docker run writes it before start).
// Past this many bytes the client is asked to pause, so a huge pipe cannot fill the daemon's memory.
const MAX_PENDING_STDIN = 1 << 20;
const END_GRACE_MS = 2000;

/**
 * Fans a running container's output out to its attached clients and funnels their stdin into it,
 * through conmon's attach socket (one connection per container run, shared by all clients).
 */
export class AttachHub {
  private readonly clients = new Set<AttachClient>();
  private connection: AttachConnection | null = null;
  private connecting: Promise<void> | null = null;
  private pendingStdin: Buffer[] = [];
  private pendingBytes = 0;
  private stdinClosed = false;
  private readonly drainWaiters: Array<() => void> = [];

  get hasClients(): boolean {
    return this.clients.size > 0;
  }

  add(client: AttachClient): () => void {
    this.clients.add(client);
    return () => this.clients.delete(client);
  }

  /**
   * Binds the run's conmon connection, opened by `open` unless it is bound or being opened:
   * attach clients that arrive together must not each open one (the extra would leak and
   * duplicate every output message).
   */
  connect(open: () => Promise<AttachConnection>): Promise<void> {
    if (this.connection) return Promise.resolve();
    this.connecting ??= open()
      .then((connection) => this.bind(connection))
      .finally(() => (this.connecting = null));
    return this.connecting;
  }

  /** Flushes stdin received before the connection. */
  private bind(connection: AttachConnection): void {
    this.connection = connection;
    connection.on('data', (stream: StreamName, chunk: Buffer) => {
      for (const client of this.clients) if (client[stream]) client.write(stream, chunk);
    });
    connection.on('end', () => this.finish());
    for (const chunk of this.pendingStdin) void connection.write(chunk);
    this.pendingStdin = [];
    this.pendingBytes = 0;
    if (this.stdinClosed) connection.closeStdin();
    this.releaseDrainWaiters();
  }

  /** Resolves when the caller may send more stdin (immediately unless the buffer is full). */
  writeStdin(chunk: Buffer): Promise<void> {
    if (this.stdinClosed) return Promise.resolve();
    if (this.connection) return this.connection.write(chunk);
    this.pendingStdin.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < MAX_PENDING_STDIN) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  closeStdin(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.connection?.closeStdin();
  }

  /**
   * The container exited. conmon closes the attach socket only after it has sent the last
   * output, so with a connection its 'end' finishes the clients; cutting it now could drop
   * output not yet read. The timer covers a conmon that died without closing.
   */
  exited(): void {
    const connection = this.connection;
    if (!connection) return this.finish();
    const timer = setTimeout(() => {
      if (this.connection === connection) this.finish();
    }, END_GRACE_MS);
    timer.unref();
    connection.on('end', () => clearTimeout(timer));
  }

  /** The run is over: every client gets EOF; a next run starts with a fresh hub state. */
  finish(): void {
    for (const client of this.clients) client.end();
    this.clients.clear();
    this.connection?.close();
    this.connection = null;
    this.pendingStdin = [];
    this.pendingBytes = 0;
    this.stdinClosed = false;
    this.releaseDrainWaiters();
  }

  private releaseDrainWaiters(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
