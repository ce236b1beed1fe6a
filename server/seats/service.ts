import { isStaff, type AuthUser } from '../accounts/auth-user';
import type { HoldExtras } from '../ga/hold-extras';
import { isMysql, type Db } from '../db/knex';
import { RetryableConflict, withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { HoldView, SeatState, SeatsChanged, SeatsSnapshot } from '../realtime/protocol';
import type { Notifier } from '../realtime/notifier';
import type { Clock } from '../shared/clock';
import { ConflictError, NotFoundError, SeatUnavailableError, UnprocessableError } from '../shared/errors';
import { admitHold, assertOnSale, heldSeatsOf, loadEventRules, loadHoldForActor, newHoldRow, type HoldRow } from './hold-rules';
import { isSeatFree, readSeats, readSeatsOfHold, transitionSeats, type SeatRow, type TransitionResult } from './seat-store';

export interface SeatsDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  retry?: RetryOptions;
  /** A small pool of its own for the expiry sweeper (see sweepExpired); the main pool when absent. */
  sweepDb?: Db;
  /** Called after a hold lapses or is released, so freed seats can be offered (waitlist). */
  onSeatsFreed?: (eventId: number, seatIds: number[]) => void;
  /** What holds carry besides seats (general-admission tickets), released and expired with them. */
  holdExtras?: HoldExtras;
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

export interface WalkInCustomer {
  name: string;
  email?: string | null;
}

/**
 * The seat core: holds (create, add to, release, extend), expiry, snapshots and catch-up. Every state change
 * is a version-checked transaction (see seat-store.ts); the notifier is told only after commit.
 */
export class SeatsService {
  constructor(private readonly deps: SeatsDeps) {}

  private tx<T>(body: (trx: Trx) => Promise<T>): Promise<T> {
    return withTransaction(this.deps.db, body, this.deps.retry);
  }

  private publish(eventId: number, result: TransitionResult): void {
    if (result.seats.length) this.deps.notifier.seatsChanged(eventId, result.seats, result.cursor);
  }

  /**
   * Holds seats for `actor`, all or nothing. With `holdToken`, adds them to that live hold (its expiry
   * stays). A seat whose hold has lapsed counts as free even before the sweeper has released it.
   * Throws SEAT_UNAVAILABLE naming the seats that were taken.
   */
  async hold(actor: AuthUser, eventId: number, input: { seatIds: number[]; holdToken?: string; customer?: WalkInCustomer }): Promise<HoldView> {
    const seatIds = [...new Set(input.seatIds)];
    if (!input.holdToken) await this.refuseIfTaken(actor, eventId, seatIds);
    const { hold, result, fresh } = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      const event = await loadEventRules(trx, eventId);
      assertOnSale(event);
      let hold: HoldRow | undefined;
      if (input.holdToken) {
        hold = await loadHoldForActor(trx, input.holdToken, actor, now, { live: true });
        if (hold.event_id !== eventId) throw new UnprocessableError('HOLD_OTHER_EVENT', 'That hold belongs to another event');
      }
      const rows = await readSeats(trx, eventId, seatIds);
      if (rows.length !== seatIds.length) {
        const found = new Set(rows.map((r) => r.seat_id));
        throw new NotFoundError('Seat', 'SEAT_NOT_FOUND', { seatIds: seatIds.filter((id) => !found.has(id)) });
      }
      const holderId = hold?.user_id ?? actor.id;
      await admitHold(trx, {
        actor,
        holderId,
        event,
        adding: seatIds.length,
        inThisHold: hold ? await seatsInHold(trx, hold.id) : 0,
        heldByHolder: () => heldSeatsOf(trx, eventId, holderId, now),
        unit: 'seats',
      });

      const taken = rows.filter((r) => !isSeatFree(r, now)).map((r) => r.seat_id);
      if (taken.length) throw new SeatUnavailableError(taken.sort((a, b) => a - b));

      const fresh = !hold;
      if (!hold) {
        const row = newHoldRow(event, actor.id, now, input.customer ? { source: 'box_office', customer: input.customer } : {});
        const [id] = await trx('holds').insert(row);
        hold = { ...row, id: Number(id) };
      }
      const result = await transitionSeats(trx, {
        eventId,
        seats: rows,
        to: 'held',
        holdId: hold.id,
        holdExpiresAt: Number(hold.expires_at),
        actorId: actor.id,
        reason: input.customer ? 'box_office_hold' : 'hold',
        now,
      });
      return { hold, result, fresh };
    });
    this.publish(eventId, result);
    // A new hold is exactly the seats just changed: answer from them instead of reading them back.
    return fresh ? this.holdView(hold, result.seats) : this.holdView(hold);
  }

  /**
   * The flash-sale fast path: most attempts in a rush are for seats somebody already has. One plain read
   * (no transaction, no pool slot held across round trips) answers those at once with SEAT_UNAVAILABLE;
   * everything else goes through the full transaction, whose compare-and-set stays the only authority. The
   * answer is truthful at the instant of the read.
   *
   * It must answer what the transaction would (the precedence in docs/DESIGN.md, "Which error wins"): it
   * applies only to a new hold (adding to a hold checks the token first) on an on-sale event whose seats all
   * exist, and only when neither limit would refuse the request first; when in doubt it steps aside and lets
   * the transaction answer. The limit check reads the holder's seats only when seats are taken.
   */
  private async refuseIfTaken(actor: AuthUser, eventId: number, seatIds: number[]): Promise<void> {
    const now = this.deps.clock.now();
    const rows = (await this.deps.db('events as e')
      .join('event_seats as es', 'es.event_id', 'e.id')
      .where('e.id', eventId)
      .where('e.status', 'on_sale')
      .whereIn('es.seat_id', seatIds)
      .select('es.seat_id', 'es.status', 'es.hold_expires_at', 'e.max_seats_per_order', 'e.max_seats_per_user')) as (Pick<
      SeatRow,
      'seat_id' | 'status' | 'hold_expires_at'
    > & { max_seats_per_order: number; max_seats_per_user: number })[];
    if (rows.length !== seatIds.length) return;
    const taken = rows.filter((r) => !isSeatFree(r, now)).map((r) => r.seat_id);
    if (taken.length === 0) return;
    const limits = rows[0]!;
    if (seatIds.length > limits.max_seats_per_order) return;
    if (!isStaff(actor) && (await heldSeatsOf(this.deps.db, eventId, actor.id, now)) + seatIds.length > limits.max_seats_per_user) return;
    throw new SeatUnavailableError(taken.sort((a, b) => a - b));
  }

  /** Releases some or all seats of a live hold. Seats not in the hold are an error; nothing changes then. */
  async release(actor: AuthUser, holdToken: string, seatIds?: number[]): Promise<{ released: number[]; hold: HoldView | null }> {
    let extrasChanged = false;
    const { hold, result, remaining } = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      const hold = await loadHoldForActor(trx, holdToken, actor, now, { live: true });
      const seats = await readSeatsOfHold(trx, hold.id);
      let toFree: SeatRow[] = seats;
      if (seatIds) {
        const inHold = new Set(seats.map((s) => s.seat_id));
        const foreign = seatIds.filter((id) => !inHold.has(id));
        if (foreign.length) throw new ConflictError('SEAT_NOT_IN_HOLD', 'Some of these seats are not in this hold', { seatIds: foreign });
        const wanted = new Set(seatIds);
        toFree = seats.filter((s) => wanted.has(s.seat_id));
      }
      const remaining = seats.length - toFree.length;
      if (remaining === 0) {
        const claimed = await trx('holds').where({ id: hold.id, status: 'active' }).update({ status: 'released' });
        if (claimed !== 1) throw new RetryableConflict('hold changed');
        extrasChanged = (await this.deps.holdExtras?.closeHold(trx, hold.id)) ?? false;
      }
      const result = await transitionSeats(trx, {
        eventId: hold.event_id,
        seats: toFree,
        to: 'available',
        actorId: actor.id,
        reason: hold.user_id === actor.id ? 'release' : 'force_release',
        now,
      });
      return { hold, result, remaining };
    });
    this.publish(hold.event_id, result);
    this.deps.onSeatsFreed?.(hold.event_id, result.seats.map((s) => s.id));
    if (extrasChanged) this.deps.holdExtras?.changed(hold.event_id);
    return { released: result.seats.map((s) => s.id), hold: remaining > 0 ? await this.holdView(hold) : null };
  }

  /** Extends a live hold by the event's hold time, never past its maximum life. */
  async extend(actor: AuthUser, holdToken: string): Promise<HoldView> {
    const { hold, result } = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      const hold = await loadHoldForActor(trx, holdToken, actor, now, { live: true });
      const event = await loadEventRules(trx, hold.event_id);
      assertOnSale(event);
      const expiresAt = Math.min(now + event.hold_ttl_seconds * 1000, Number(hold.max_expires_at));
      if (expiresAt <= Number(hold.expires_at)) {
        throw new ConflictError('HOLD_MAX_LIFE', 'This hold cannot be extended any further', { maxExpiresAt: new Date(Number(hold.max_expires_at)).toISOString() });
      }
      const claimed = await trx('holds')
        .where({ id: hold.id, status: 'active' })
        .andWhere('expires_at', '>', now)
        .update({ expires_at: expiresAt });
      if (claimed !== 1) throw new RetryableConflict('hold changed');
      const seats = await readSeatsOfHold(trx, hold.id);
      const result = await transitionSeats(trx, {
        eventId: hold.event_id,
        seats,
        to: 'held',
        holdId: hold.id,
        holdExpiresAt: expiresAt,
        actorId: actor.id,
        reason: 'extend',
        now,
      });
      return { hold: { ...hold, expires_at: expiresAt }, result };
    });
    this.publish(hold.event_id, result);
    // Extending re-versions every seat of the hold, so the transition result is the whole hold.
    return this.holdView(hold, result.seats);
  }

  /** The hold as its owner (or staff) sees it. */
  async getHold(actor: AuthUser, holdToken: string): Promise<HoldView> {
    const hold = await loadHoldForActor(this.deps.db, holdToken, actor, this.deps.clock.now(), { live: false });
    return this.holdView(hold);
  }

  /** The hold with its seats: `known` when the caller already has them all, else read back. */
  private async holdView(hold: HoldRow, known?: SeatState[]): Promise<HoldView> {
    const seats =
      known ??
      ((await this.deps.db('event_seats')
        .where({ hold_id: hold.id, status: 'held' })
        .orderBy('seat_id')
        .select('seat_id', 'status', 'version', 'hold_expires_at')) as SeatRow[]).map(toSeatState);
    return {
      holdToken: hold.token,
      eventId: hold.event_id,
      expiresAt: new Date(Number(hold.expires_at)).toISOString(),
      maxExpiresAt: new Date(Number(hold.max_expires_at)).toISOString(),
      seats,
    };
  }

  /**
   * Releases lapsed holds, up to `limit` per call, in ONE transaction. Runs on every node: on MySQL the due
   * holds are claimed with `FOR UPDATE SKIP LOCKED`, so concurrent sweepers take disjoint holds without
   * waiting for each other, and each hold is released (and broadcast, and its holder told) by exactly one node.
   * It uses `sweepDb` when given, a connection of its own, so expiry is not queued behind buyers in the main
   * pool during a rush. Returns the number of holds released.
   */
  async sweepExpired(limit = 100): Promise<number> {
    const db = this.deps.sweepDb ?? this.deps.db;
    const done = await withTransaction(
      db,
      async (trx) => {
        const now = this.deps.clock.now();
        const due = (await trx('holds')
          .where('status', 'active')
          .andWhere('expires_at', '<=', now)
          .orderBy('expires_at')
          .limit(limit)
          .select('id', 'token', 'event_id', 'user_id')
          .modify((q) => {
            if (isMysql(db)) q.forUpdate().skipLocked();
          })) as Pick<HoldRow, 'id' | 'token' | 'event_id' | 'user_id'>[];
        if (due.length === 0) return null;
        const ids = due.map((h) => h.id);
        // The rows are ours (locked on MySQL; SQLite has one writer), so every one must change.
        const claimed = await trx('holds').whereIn('id', ids).where('status', 'active').update({ status: 'expired' });
        if (claimed !== ids.length) throw new RetryableConflict(`claimed ${claimed} of ${ids.length} lapsed holds`);
        const seats = (await trx('event_seats')
          .whereIn('hold_id', ids)
          .where('status', 'held')
          .select('event_id', 'seat_id', 'status', 'version', 'hold_id')) as (SeatRow & { event_id: number })[];
        const extrasEvents = new Set<number>();
        for (const hold of due) if (await this.deps.holdExtras?.closeHold(trx, hold.id)) extrasEvents.add(hold.event_id);
        const results = new Map<number, TransitionResult>();
        for (const eventId of new Set(seats.map((s) => s.event_id))) {
          const ofEvent = seats.filter((s) => s.event_id === eventId);
          results.set(eventId, await transitionSeats(trx, { eventId, seats: ofEvent, to: 'available', actorId: null, reason: 'expire', now }));
        }
        return { due, seats, results, extrasEvents };
      },
      this.deps.retry,
    );
    if (!done) return 0;
    for (const [eventId, result] of done.results) {
      this.publish(eventId, result);
      this.deps.onSeatsFreed?.(eventId, result.seats.map((s) => s.id));
    }
    for (const eventId of done.extrasEvents) this.deps.holdExtras?.changed(eventId);
    for (const hold of done.due) {
      const seatIds = done.seats.filter((s) => s.hold_id === hold.id).map((s) => s.seat_id).sort((a, b) => a - b);
      this.deps.notifier.holdExpired(hold.user_id, { eventId: hold.event_id, holdToken: hold.token, seatIds });
    }
    return done.due.length;
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
    const rows = (await db('event_seats').where({ event_id: eventId }).select('seat_id', 'status', 'version', 'hold_expires_at')) as SeatRow[];
    return { eventId, cursor, seats: rows.map(toSeatState) };
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


async function seatsInHold(trx: Trx, holdId: number): Promise<number> {
  const [{ n }] = (await trx('event_seats').where({ hold_id: holdId, status: 'held' }).count({ n: '*' })) as [{ n: number | string }];
  return Number(n);
}

export function toSeatState(r: Pick<SeatRow, 'seat_id' | 'status' | 'version' | 'hold_expires_at'>): SeatState {
  return r.status === 'held' && r.hold_expires_at
    ? { id: r.seat_id, status: r.status, version: r.version, expiresAt: new Date(Number(r.hold_expires_at)).toISOString() }
    : { id: r.seat_id, status: r.status, version: r.version };
}
