/**
 * One read per key at a time, for the per-node caches in front of the database: every caller that asks while a
 * read is out waits for that same read, instead of sending one of its own (a cache that lapses in a rush would
 * otherwise send as many reads as requests arrived before the first answer). `detach` after a write: the read in
 * flight may have started before it, so its answer is given to its callers but not kept.
 */
export class SingleFlight<K, V> {
  private readonly reads = new Map<K, Promise<V>>();

  /** The read in flight for `key`, or a new `read()`; `keep` gets its answer only if no write detached it meanwhile. */
  async run(key: K, read: () => Promise<V>, keep: (value: V) => void): Promise<V> {
    const pending = this.reads.get(key);
    if (pending) return pending;
    const load = read();
    this.reads.set(key, load);
    try {
      const value = await load;
      if (this.reads.get(key) === load) keep(value);
      return value;
    } finally {
      if (this.reads.get(key) === load) this.reads.delete(key);
    }
  }

  /** Forgets the read in flight for `key` (callers already waiting still get its answer). */
  detach(key: K): void {
    this.reads.delete(key);
  }
}
