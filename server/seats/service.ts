import type { AuthUser } from '../shared/auth-user';
import { isMysql, type Db } from '../db/knex';
import type { HoldOutcome, WalkInCustomer } from '../inventory/commands';
import { loadHoldForActor } from '../inventory/hold-rules';
import { toSeatState, type SeatRow } from '../inventory/seat-store';
import type { InventoryService } from '../inventory/service';
import type { HoldView, SeatState, SeatsChanged, SeatsSnapshot } from '../contracts';
import type { Clock } from '../shared/clock';
import { NotFoundError } from '../shared/errors';
import type { HoldGate } from '../queue/gate';

export interface SeatsDeps {
  db: Db;
  clock: Clock;
  /** The inventory core: every seat change goes through it (group-committed per event). */
  inventory: InventoryService;
  /** The waiting room's admission check (holds only). */
  holdGate?: HoldGate;
}

/** How many changes catch-up replays before it sends a fresh snapshot instead. */
const MAX_CATCH_UP = 2000;
/**
 * Auto-increment ids are assigned at insert, not at commit, so a change with a lower id can commit after
 * a higher one was read as a cursor. Catch-up therefore also replays changes written within this window
 * before the cursor's own; replays are harmless because clients keep the highest version per seat.
 * Transactions here are far shorter (lock waits are capped at a few seconds).
 */
const CATCH_UP_GRACE_MS = 10_000;

/** Events whose last snapshot is kept for reuse (a 100,000-seat snapshot is ~10 MB of objects). */
const MAX_REUSED_SNAPSHOTS = 16;

export type { WalkInCustomer };

/**
 * Seats as buyers and box office use them: holds (create, add to, release, extend) through the inventory
 * core, snapshots and catch-up from the database. The rules and the writes live in server/inventory/.
 */
export class SeatsService {
  /** The last snapshot read per event, reused while the event's change log has not moved (SQLite only). */
  private readonly lastSnapshots = new Map<number, SeatsSnapshot>();

  constructor(private readonly deps: SeatsDeps) {}

  /**
   * Holds seats for `actor`, all or nothing. With `holdToken`, adds them to that live hold (its expiry
   * stays). A seat whose hold has lapsed counts as free even before the sweeper has released it.
   * Throws SEAT_UNAVAILABLE naming the seats that were taken (after the other checks: docs/DESIGN.md).
   */
  async hold(actor: AuthUser, eventId: number, input: { seatIds: number[]; holdToken?: string; customer?: WalkInCustomer }, ctx: { clientIp?: string } = {}): Promise<HoldView> {
    await this.deps.holdGate?.assertMayHold(actor, eventId);
    return holdView(await this.deps.inventory.hold(actor, eventId, { ...input, clientIp: ctx.clientIp }));
  }

  /** Releases some or all seats of a live hold. Seats not in the hold are an error; nothing changes then. */
  async release(actor: AuthUser, holdToken: string, seatIds?: number[]): Promise<{ released: number[]; hold: HoldView | null }> {
    const out = await this.deps.inventory.release(actor, holdToken, seatIds);
    return { released: out.released, hold: out.hold ? holdView(out.hold) : null };
  }

  /** Extends a live hold by the event's hold time, never past its maximum life. */
  async extend(actor: AuthUser, holdToken: string): Promise<HoldView> {
    return holdView(await this.deps.inventory.extend(actor, holdToken));
  }

  /** The hold as its owner (or staff) sees it. */
  async getHold(actor: AuthUser, holdToken: string): Promise<HoldView> {
    const hold = await loadHoldForActor(this.deps.db, holdToken, actor, this.deps.clock.now(), { live: false });
    const seats = (await this.deps.db('event_seats')
      .where({ hold_id: hold.id, status: 'held' })
      .orderBy('seat_id')
      .select('seat_id', 'status', 'version', 'hold_expires_at')) as SeatRow[];
    return holdView({ hold, seats: seats.map(toSeatState) });
  }

  /** Releases lapsed holds (see InventoryService.sweep). Returns the number of holds released. */
  sweepExpired(limit = 100): Promise<number> {
    return this.deps.inventory.sweep(limit);
  }

  /**
   * Every seat of the event with its status and version. The cursor is read *before* the seats, so any
   * change that lands in between is both in the seats and replayed after the cursor (clients keep the
   * highest version), never lost.
   */
  async snapshot(eventId: number): Promise<SeatsSnapshot> {
    const db = this.deps.db;
    const event = await db('events').where({ id: eventId }).first('status');
    if (!event || event.status === 'draft') throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
    const cursor = await this.currentCursor(eventId);
    // On SQLite a read of a big venue blocks the event loop (the driver is synchronous), so joins that arrive
    // one after another cannot share a read in flight (SnapshotLoader) and would each pay for one. There one
    // writer commits at a time and change ids follow commit order, so an unchanged newest change id means no
    // seat changed since the last snapshot, which is then reused as it is. Not on MySQL: ids are assigned at
    // insert, a lower one can commit later (see CATCH_UP_GRACE_MS), and reads there are shared anyway.
    const reusable = !isMysql(this.deps.db);
    const last = reusable ? this.lastSnapshots.get(eventId) : undefined;
    if (last && last.cursor === cursor) return last;
    const rows = (await db('event_seats').where({ event_id: eventId }).select('seat_id', 'status', 'version', 'hold_expires_at')) as SeatRow[];
    const snapshot: SeatsSnapshot = { eventId, cursor, seats: rows.map(toSeatState) };
    if (reusable) {
      this.lastSnapshots.delete(eventId);
      if (this.lastSnapshots.size >= MAX_REUSED_SNAPSHOTS) this.lastSnapshots.delete(this.lastSnapshots.keys().next().value!);
      this.lastSnapshots.set(eventId, snapshot);
    }
    return snapshot;
  }

  async currentCursor(eventId: number): Promise<number> {
    const row = (await this.deps.db('seat_changes').where({ event_id: eventId }).max({ m: 'id' }).first()) as { m: number | string | null } | undefined;
    return Number(row?.m ?? 0);
  }

  /**
   * The changes since `cursor` folded to the latest state per seat, or null when the client should take a
   * fresh snapshot instead (unknown cursor, or more changes than a snapshot costs).
   */
  async changesSince(eventId: number, cursor: number): Promise<SeatsChanged | null> {
    const db = this.deps.db;
    let since = cursor;
    if (cursor > 0) {
      const at = await db('seat_changes').where({ id: cursor, event_id: eventId }).first('created_at');
      if (!at) return null;
      // Find the lowest id written within the grace window before the cursor (see CATCH_UP_GRACE_MS).
      const early = (await db('seat_changes')
        .where('event_id', eventId)
        .andWhere('created_at', '>=', Number(at.created_at) - CATCH_UP_GRACE_MS)
        .andWhere('id', '<=', cursor)
        .min({ m: 'id' })
        .first()) as { m: number | null } | undefined;
      since = Math.min(cursor, Number(early?.m ?? cursor + 1) - 1);
    }
    const rows = (await db('seat_changes')
      .where('event_id', eventId)
      .andWhere('id', '>', since)
      .orderBy('id')
      .limit(MAX_CATCH_UP + 1)
      .select('id', 'seat_id', 'to_status', 'version', 'hold_expires_at')) as {
      id: number;
      seat_id: number;
      to_status: SeatState['status'];
      version: number;
      hold_expires_at: number | null;
    }[];
    if (rows.length > MAX_CATCH_UP) return null;
    const latest = new Map<number, SeatState>();
    let max = cursor;
    for (const r of rows) {
      max = Math.max(max, Number(r.id));
      const prev = latest.get(r.seat_id);
      if (!prev || prev.version < r.version) {
        latest.set(r.seat_id, toSeatState({ seat_id: r.seat_id, status: r.to_status, version: r.version, hold_expires_at: r.hold_expires_at }));
      }
    }
    return { eventId, cursor: max, seats: [...latest.values()] };
  }
}


/** The hold as its owner sees it. */
export function holdView(out: HoldOutcome): HoldView {
  return {
    holdToken: out.hold.token,
    eventId: out.hold.event_id,
    expiresAt: new Date(Number(out.hold.expires_at)).toISOString(),
    maxExpiresAt: new Date(Number(out.hold.max_expires_at)).toISOString(),
    seats: out.seats,
  };
}

export { toSeatState };
