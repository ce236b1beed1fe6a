import type { Db } from '../db/knex';
import { withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { EventView, SeatState } from '../contracts';
import { cancelBooking, releaseHold } from '../inventory/operations';
import type { Notifier } from '../realtime/notifier';
import type { AuthUser } from '../shared/auth-user';
import type { Clock } from '../shared/clock';
import { appendOutbox } from '../shared/outbox';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../shared/errors';
import type { EventLifecycle } from './lifecycle';

export interface EventCancellationDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  lifecycle: EventLifecycle;
  retry?: RetryOptions;
  /** Non-seat parts of holds and bookings (general-admission tickets), given back when an event is cancelled. */
  holdExtras?: CancellableExtras;
  /** Ends the event's waiting and offered waitlist entries in the caller's transaction (waitlist/entries.ts). */
  closeWaitlist?: (trx: Trx, eventId: number, now: number) => Promise<number>;
}

/** The part of the general-admission hooks that event cancellation needs (structural, so no import cycle). */
export interface CancellableExtras {
  closeHold(trx: Trx, holdId: number): Promise<boolean>;
  cancelBooking(trx: Trx, bookingId: number): Promise<boolean>;
  changed(eventId: number): void;
}

/** Cancelling an event: its status, bookings and holds in one transaction, then everyone is told. */
export class EventCancellation {
  constructor(private readonly deps: EventCancellationDeps) {}

  private tx<T>(body: (trx: Trx) => Promise<T>): Promise<T> {
    return withTransaction(this.deps.db, body, this.deps.retry);
  }

  /**
   * Cancels an event: its status becomes `cancelled` (so no new hold or booking can start), and in the
   * same transaction every confirmed booking is cancelled and every active hold released. A hold or
   * booking that was already in flight when the status flipped can still commit just after, so a few
   * follow-up passes sweep such stragglers. Everybody watching is told (`event:status`), each booker on
   * their own sockets (`booking:cancelled`), each holder too (`hold:expired` with reason event_cancelled).
   */
  async cancelEvent(actor: AuthUser, eventId: number, expectedVersion: number, reason?: string): Promise<EventView & { cancelledBookings: number; releasedHolds: number }> {
    const first = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      const ev = (await trx('events').where({ id: eventId }).first('status', 'version')) as { status: string; version: number } | undefined;
      if (!ev) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
      if (ev.version !== expectedVersion) throw new PreconditionFailedError('The event changed since you read it', { currentVersion: ev.version });
      if (ev.status === 'cancelled') throw new ConflictError('EVENT_ALREADY_CANCELLED', 'This event is already cancelled');
      const changed = await trx('events')
        .where({ id: eventId, version: expectedVersion })
        .update({ status: 'cancelled', version: trx.raw('version + 1'), updated_at: now });
      if (changed !== 1) throw new PreconditionFailedError('The event changed since you read it');
      await appendOutbox(trx, [{ type: 'event.status_changed', data: { eventId, from: ev.status, to: 'cancelled', ...(reason ? { reason } : {}) } }], now);
      return cancelContents(trx, eventId, actor.id, now, this.deps);
    });
    this.deps.notifier.eventStatus?.({ eventId, status: 'cancelled', ...(reason ? { reason } : {}) });
    let total = this.announce(eventId, first);
    for (let pass = 0; pass < 3; pass++) {
      const more = await this.tx((trx) => cancelContents(trx, eventId, actor.id, this.deps.clock.now(), this.deps));
      const n = this.announce(eventId, more);
      total = { bookings: total.bookings + n.bookings, holds: total.holds + n.holds };
      if (n.bookings + n.holds === 0) break;
    }
    return { ...(await this.deps.lifecycle.getEvent(eventId)), cancelledBookings: total.bookings, releasedHolds: total.holds };
  }

  private announce(eventId: number, c: Cleanup): { bookings: number; holds: number } {
    if (c.seats.length) this.deps.notifier.seatsChanged(eventId, c.seats, c.cursor);
    if (c.extrasChanged) this.deps.holdExtras?.changed(eventId);
    for (const b of c.bookings) {
      this.deps.notifier.bookingCancelled?.(b.user_id, { eventId, bookingId: b.id, reference: b.reference, reason: 'event_cancelled' });
    }
    for (const h of c.holds) this.deps.notifier.holdExpired(h.user_id, { eventId, holdToken: h.token, seatIds: h.seatIds, reason: 'event_cancelled' });
    return { bookings: c.bookings.length, holds: c.holds.length };
  }
}
interface Cleanup {
  seats: SeatState[];
  cursor: number;
  bookings: { id: number; user_id: number; reference: string }[];
  holds: { user_id: number; token: string; seatIds: number[] }[];
  extrasChanged: boolean;
}

/**
 * Cancels every confirmed booking, releases every active hold (waitlist offers included) and ends every waiting or
 * offered waitlist entry of an event, inside the caller's transaction.
 */
async function cancelContents(
  trx: Trx,
  eventId: number,
  actorId: number,
  now: number,
  { holdExtras: extras, closeWaitlist }: Pick<EventCancellationDeps, 'holdExtras' | 'closeWaitlist'>,
): Promise<Cleanup> {
  const out: Cleanup = { seats: [], cursor: 0, bookings: [], holds: [], extrasChanged: false };
  // Joins racing the status flip are ended by the follow-up passes, as bookings and holds are.
  await closeWaitlist?.(trx, eventId, now);
  const bookings = (await trx('bookings').where({ event_id: eventId, status: 'confirmed' }).orderBy('id').select('id', 'event_id', 'user_id', 'reference')) as {
    id: number;
    event_id: number;
    user_id: number;
    reference: string;
  }[];
  for (const b of bookings) {
    const r = await cancelBooking(trx, b, { actorId, reason: 'event_cancelled', now });
    if (extras && (await extras.cancelBooking(trx, b.id))) out.extrasChanged = true;
    out.seats.push(...r.seats);
    out.cursor = Math.max(out.cursor, r.cursor);
    out.bookings.push({ id: b.id, user_id: b.user_id, reference: b.reference });
  }
  const holds = (await trx('holds').where({ event_id: eventId, status: 'active' }).orderBy('id').select('id', 'user_id', 'token')) as {
    id: number;
    user_id: number;
    token: string;
  }[];
  for (const h of holds) {
    const r = await releaseHold(trx, { eventId, holdId: h.id, actorId, reason: 'event_cancelled', now });
    if (!r) continue;
    if (extras && (await extras.closeHold(trx, h.id))) out.extrasChanged = true;
    out.seats.push(...r.seats);
    out.cursor = Math.max(out.cursor, r.cursor);
    out.holds.push({ user_id: h.user_id, token: h.token, seatIds: r.seats.map((s) => s.id) });
  }
  return out;
}
