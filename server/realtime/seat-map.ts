import { decodeChanges, decodeSnapshot, LayoutMismatchError, layoutOrder, type LayoutOrder } from './compact';
import type { CompactSeatsChanged, CompactSeatsSnapshot, SeatState, SeatsChanged, SeatsSnapshot } from '../contracts';

/**
 * A client's view of an event's seats: applies snapshots and change batches keeping, per seat, the state
 * with the highest version, and tracks the cursor to resume from. Dependency-free: the browser demo, load/
 * and the tests use this same class, so they all follow the protocol's rule the same way.
 *
 * Both protocol forms go through the same merge: compact payloads (`format: 'compact'`) are decoded against the
 * layout's seat order, given once with `useLayout` (a compact payload before it, or for another layout version,
 * throws LayoutMismatchError: fetch the layout, then resync).
 */
export class SeatMap {
  readonly seats = new Map<number, SeatState>();
  cursor = 0;
  private order: LayoutOrder | undefined;

  /** Sets the seat order of the layout (`GET /api/events/:id/layout`: its `layoutVersion` and seat ids in order). */
  useLayout(layoutVersion: string, seatIds: readonly number[]): void {
    this.order = layoutOrder(layoutVersion, seatIds);
  }

  /** The layout version compact payloads are decoded against, if any. */
  get layoutVersion(): string | undefined {
    return this.order?.version;
  }

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

  /** Applies a `seats:snapshot:compact` payload (same rule as applySnapshot). */
  applyCompactSnapshot(snapshot: CompactSeatsSnapshot): SeatState[] {
    return this.applySnapshot(decodeSnapshot(snapshot, this.requireOrder(snapshot.layoutVersion)));
  }

  /** Applies a `seats:changed:compact` payload (same rule as applyChanges). */
  applyCompactChanges(batch: CompactSeatsChanged): SeatState[] {
    return this.applyChanges(decodeChanges(batch, this.requireOrder(batch.layoutVersion)));
  }

  private requireOrder(layoutVersion: string): LayoutOrder {
    // decode* checks a mismatched version; with no layout at all, say so the same way.
    if (!this.order) throw new LayoutMismatchError(undefined, layoutVersion);
    return this.order;
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
