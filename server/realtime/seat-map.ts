import type { SeatState, SeatsChanged, SeatsSnapshot } from './protocol';

/**
 * A client's view of an event's seats: applies snapshots and change batches keeping, per seat, the state
 * with the highest version, and tracks the cursor to resume from. Dependency-free: the browser demo, load/
 * and the tests use this same class, so they all follow the protocol's rule the same way.
 */
export class SeatMap {
  readonly seats = new Map<number, SeatState>();
  cursor = 0;

  /** Applies a snapshot; a seat already known at a higher version (a change that raced it) is kept. */
  applySnapshot(snapshot: SeatsSnapshot): SeatState[] {
    this.cursor = Math.max(this.cursor, snapshot.cursor);
    return this.merge(snapshot.seats);
  }

  /** Applies a change batch; returns the seats that actually changed. */
  applyChanges(batch: SeatsChanged): SeatState[] {
    this.cursor = Math.max(this.cursor, batch.cursor);
    return this.merge(batch.seats);
  }

  private merge(seats: SeatState[]): SeatState[] {
    const changed: SeatState[] = [];
    for (const s of seats) {
      const prev = this.seats.get(s.id);
      if (!prev || prev.version < s.version) {
        this.seats.set(s.id, s);
        changed.push(s);
      }
    }
    return changed;
  }

  counts(): Record<SeatState['status'], number> {
    const c = { available: 0, held: 0, booked: 0, blocked: 0 };
    for (const s of this.seats.values()) c[s.status]++;
    return c;
  }
}
