/**
 * One serial executor per container: the jobs given for a key run one after another, in the
 * order given, each after the previous one settled (whether it succeeded or not). Everything
 * that changes a container's state runs as such a job, so a start, an exit, a removal and a
 * rename of one container never interleave, while different containers proceed in parallel.
 */
export class SerialExecutor {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous ? previous.then(job) : job();
    const tail = result.then(
      () => {},
      () => {},
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves once no job of any key is left (jobs may queue more jobs meanwhile). */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}
