/** In-memory reference counts by name: the drivers' mounts and the layer store's holders. */
export class RefCounts {
  private readonly counts = new Map<string, number>();

  /** Adds a reference; returns the new count. */
  acquire(name: string): number {
    const count = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, count);
    return count;
  }

  /** Drops a reference; returns the count left (0 as well when there was none). */
  release(name: string): number {
    const count = (this.counts.get(name) ?? 0) - 1;
    if (count > 0) this.counts.set(name, count);
    else this.counts.delete(name);
    return Math.max(count, 0);
  }

  count(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  names(): string[] {
    return [...this.counts.keys()];
  }

  clear(): void {
    this.counts.clear();
  }
}
