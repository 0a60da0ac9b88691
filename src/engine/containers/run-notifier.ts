/**
 * Who is waiting for a container's run to end or for its removal (`wait`, `stop`, `kill`, logs
 * that follow). Typed per container; nothing is keyed by strings.
 */
type Listener = (exitCode: number) => void;

interface Waiters {
  exit: Set<Listener>;
  removed: Set<Listener>;
}

export class RunNotifier {
  private readonly byId = new Map<string, Waiters>();

  private waiters(id: string): Waiters {
    let waiters = this.byId.get(id);
    if (!waiters) {
      waiters = { exit: new Set(), removed: new Set() };
      this.byId.set(id, waiters);
    }
    return waiters;
  }

  private listen(id: string, kind: keyof Waiters, listener: Listener): () => void {
    const waiters = this.waiters(id);
    waiters[kind].add(listener);
    return () => {
      waiters[kind].delete(listener);
      if (waiters.exit.size === 0 && waiters.removed.size === 0 && this.byId.get(id) === waiters) this.byId.delete(id);
    };
  }

  /** Calls `listener` when the current run ends, or when the container is removed (it never ends then). */
  onRunEnd(id: string, listener: Listener): () => void {
    let stop = () => {};
    const once: Listener = (code) => {
      stop();
      listener(code);
    };
    const offExit = this.listen(id, 'exit', once);
    const offRemoved = this.listen(id, 'removed', once);
    stop = () => {
      offExit();
      offRemoved();
    };
    return stop;
  }

  onRemoved(id: string, listener: Listener): () => void {
    const off = this.listen(id, 'removed', (code) => {
      off();
      listener(code);
    });
    return off;
  }

  /** The exit code of the run that ends next (or of the container's removal). */
  nextRunEnd(id: string): Promise<number> {
    return new Promise((resolve) => this.onRunEnd(id, resolve));
  }

  runEnded(id: string, exitCode: number): void {
    for (const listener of [...(this.byId.get(id)?.exit ?? [])]) listener(exitCode);
  }

  removed(id: string, exitCode: number): void {
    const waiters = this.byId.get(id);
    this.byId.delete(id);
    for (const listener of [...(waiters?.removed ?? [])]) listener(exitCode);
  }
}
