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

/** The clients of one run and, once bound, that run's conmon connection. */
interface Run {
  clients: Set<AttachClient>;
  connection: AttachConnection | null;
}

/**
 * Fans a running container's output out to its attached clients and funnels their stdin into it,
 * through conmon's attach socket (one connection per container run, shared by all clients).
 * Clients belong to a run: when it ends they drain its last output while the next run starts
 * with its own clients and connection.
 */
export class AttachHub {
  private run: Run = { clients: new Set(), connection: null };
  private connecting: Promise<void> | null = null;
  private pendingStdin: Buffer[] = [];
  private pendingBytes = 0;
  private stdinClosed = false;
  private readonly drainWaiters: Array<() => void> = [];

  get hasClients(): boolean {
    return this.run.clients.size > 0;
  }

  add(client: AttachClient): () => void {
    const { clients } = this.run;
    clients.add(client);
    return () => clients.delete(client);
  }

  /**
   * Binds the run's conmon connection, opened by `open` unless it is bound or being opened:
   * attach clients that arrive together must not each open one (the extra would leak and
   * duplicate every output message).
   */
  connect(open: () => Promise<AttachConnection>): Promise<void> {
    if (this.run.connection) return Promise.resolve();
    const run = this.run;
    this.connecting ??= open()
      .then((connection) => {
        if (this.run === run) this.bind(connection);
        else connection.close(); // the run ended while it was being opened
      })
      .finally(() => (this.connecting = null));
    return this.connecting;
  }

  /** Flushes stdin received before the connection. */
  private bind(connection: AttachConnection): void {
    const run = this.run;
    run.connection = connection;
    connection.on('data', (stream: StreamName, chunk: Buffer) => {
      for (const client of run.clients) if (client[stream]) client.write(stream, chunk);
    });
    connection.on('end', () => this.endRun(run));
    for (const chunk of this.pendingStdin) void connection.write(chunk);
    this.pendingStdin = [];
    this.pendingBytes = 0;
    if (this.stdinClosed) connection.closeStdin();
    this.releaseDrainWaiters();
  }

  /** Resolves when the caller may send more stdin (immediately unless the buffer is full). */
  writeStdin(chunk: Buffer): Promise<void> {
    if (this.stdinClosed) return Promise.resolve();
    if (this.run.connection) return this.run.connection.write(chunk);
    this.pendingStdin.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < MAX_PENDING_STDIN) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  closeStdin(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.run.connection?.closeStdin();
  }

  /**
   * The container exited. conmon closes the attach socket only after it has sent the last
   * output, so the run's clients end on that close; cutting them now could drop output not yet
   * read. The timer covers a conmon that died without closing. The hub is ready for a next run.
   */
  exited(): void {
    const run = this.startNextRun();
    if (!run.connection) return this.endRun(run);
    const timer = setTimeout(() => this.endRun(run), END_GRACE_MS);
    timer.unref();
    run.connection.on('end', () => clearTimeout(timer));
  }

  /** Ends every client now (a failed start, daemon shutdown). */
  finish(): void {
    this.endRun(this.startNextRun());
  }

  private startNextRun(): Run {
    const run = this.run;
    this.run = { clients: new Set(), connection: null };
    this.pendingStdin = [];
    this.pendingBytes = 0;
    this.stdinClosed = false;
    this.releaseDrainWaiters();
    return run;
  }

  private endRun(run: Run): void {
    for (const client of run.clients) client.end();
    run.clients.clear();
    run.connection?.close();
    run.connection = null;
  }

  private releaseDrainWaiters(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
