/**
 * Shares snapshot reads between clients that join at the same time. A read already in flight may have
 * started before a new client joined (and so could miss a change that client must see), so latecomers
 * never join it: they all share the *next* read, which starts as soon as the current one ends. A join storm
 * of N clients therefore costs about two reads, not N.
 */
export class SnapshotLoader<K, T> {
  private readonly state = new Map<K, { running?: Promise<T>; queued?: Promise<T> }>();

  constructor(private readonly load: (key: K) => Promise<T>) {}

  get(key: K): Promise<T> {
    let s = this.state.get(key);
    if (!s) {
      s = {};
      this.state.set(key, s);
    }
    if (!s.running) return this.start(key, s);
    if (!s.queued) {
      const slot = s;
      slot.queued = s.running
        .then(
          () => undefined,
          () => undefined,
        )
        .then(() => {
          slot.queued = undefined;
          return this.start(key, slot);
        });
    }
    return s.queued!;
  }

  private start(key: K, s: { running?: Promise<T>; queued?: Promise<T> }): Promise<T> {
    const p = this.load(key).finally(() => {
      if (s.running === p) s.running = undefined;
      if (!s.running && !s.queued && this.state.get(key) === s) this.state.delete(key);
    });
    s.running = p;
    return p;
  }
}
