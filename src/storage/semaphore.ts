/**
 * At most `limit` holders at a time; the others wait in arrival order. A waiter whose `signal`
 * aborts leaves the queue at once.
 */
export class Semaphore {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** Whether an acquire made now is granted at once. */
  get free(): boolean {
    return this.held < this.limit;
  }

  /** Resolves with the release function once a place is free (call it exactly once). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.held < this.limit) {
      this.held++;
    } else {
      await new Promise<void>((resolve, reject) => {
        const granted = () => {
          signal?.removeEventListener('abort', abandon);
          resolve();
        };
        const abandon = () => {
          this.waiting.splice(this.waiting.indexOf(granted), 1);
          reject(signal!.reason);
        };
        this.waiting.push(granted);
        signal?.addEventListener('abort', abandon, { once: true });
      });
    }
    return this.releaser();
  }

  /** The release function of a place free now, or undefined when every place is held. */
  tryAcquire(): (() => void) | undefined {
    if (this.held >= this.limit) return undefined;
    this.held++;
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // A waiter takes the place over directly, so `held` never drops below the queue's needs.
      const next = this.waiting.shift();
      if (next) next();
      else this.held--;
    };
  }
}
