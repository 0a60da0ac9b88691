import type { AttachConnection, StdStream } from '../../runtime/container-runtime.js';

export type StreamName = StdStream;

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
  /** The connection's output has ended. */
  ended?: boolean;
  onEnd?: () => void;
}

/** Resolves when the connection has taken the chunk (so a client sending more waits for it). */
function writeTo(connection: AttachConnection, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => connection.stdin.write(chunk, (err) => (err ? reject(err) : resolve())));
}

/**
 * Fans a running container's output out to its attached clients and funnels their stdin into it,
 * through the runtime's attach connection (one per container run, shared by all clients).
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
   * Binds the run's monitor connection, opened by `open` unless it is bound or being opened:
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
    // A write after the container closed its stdin fails that write (see writeTo); the stream's
    // 'error' event says the same again and must not go unheard (it would end the daemon).
    connection.stdin.on('error', () => {});
    void this.pump(run, connection);
    for (const chunk of this.pendingStdin) writeTo(connection, chunk).catch(() => {}); // the container closed its stdin
    this.pendingStdin = [];
    this.pendingBytes = 0;
    if (this.stdinClosed) connection.stdin.end();
    this.releaseDrainWaiters();
  }

  /** Fans the run's output out until it ends (the monitor sends the last output, then closes). */
  private async pump(run: Run, connection: AttachConnection): Promise<void> {
    try {
      for await (const { stream, data } of connection.output) {
        for (const client of run.clients) if (client[stream]) client.write(stream, data);
      }
    } catch {
      // A broken connection ends the run's clients like a closed one.
    }
    run.ended = true;
    run.onEnd?.();
    this.endRun(run);
  }

  /** Resolves when the caller may send more stdin (immediately unless the buffer is full). */
  writeStdin(chunk: Buffer): Promise<void> {
    if (this.stdinClosed) return Promise.resolve();
    if (this.run.connection) return writeTo(this.run.connection, chunk);
    this.pendingStdin.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < MAX_PENDING_STDIN) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  closeStdin(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.run.connection?.stdin.end();
  }

  /**
   * The container exited. conmon closes the attach socket only after it has sent the last
   * output, so the run's clients end on that close; cutting them now could drop output not yet
   * read. The timer covers a conmon that died without closing. The hub is ready for a next run.
   */
  exited(): void {
    const run = this.startNextRun();
    if (!run.connection) return this.endRun(run);
    if (run.ended) return;
    const timer = setTimeout(() => this.endRun(run), END_GRACE_MS);
    timer.unref();
    run.onEnd = () => clearTimeout(timer);
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
