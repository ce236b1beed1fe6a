import { insertInChunks } from '../db/chunked-insert';
import { RetryableConflict, type Trx } from '../db/transaction';
import { appendOutbox } from '../shared/outbox';
import type { HoldRow } from './hold-rules';
import { readSeatsOfHold, transitionSeats, type SeatRow, type TransitionResult } from './seat-store';

/**
 * The inventory's named operations for features that compose them into their own transaction (waitlist
 * offers, best available, general admission, box office, cancellations). With the group commit in service.ts
 * these are the only code that writes event_seats, holds, seat_changes and booking_seats. Each takes the
 * caller's `trx`, checks what it changes with a compare-and-set and throws RetryableConflict when the world
 * moved, so the caller's whole transaction is retried.
 */

type Seats = Pick<SeatRow, 'seat_id' | 'status' | 'version'>[];

/** Opens a hold: inserts an active hold row (its seats or tickets are added by the caller in the same transaction). */
export async function openHold(trx: Trx, row: Omit<HoldRow, 'id'>): Promise<HoldRow> {
  const [id] = await trx('holds').insert(row);
  return { ...row, id: Number(id) };
}

/** Puts free seats (as read, with their versions) into a hold: waitlist offers, best available. */
export function holdSeats(trx: Trx, input: { eventId: number; seats: Seats; hold: HoldRow; actorId: number | null; reason: string; now: number }): Promise<TransitionResult> {
  return transitionSeats(trx, {
    eventId: input.eventId,
    seats: input.seats,
    to: 'held',
    holdId: input.hold.id,
    holdExpiresAt: Number(input.hold.expires_at),
    actorId: input.actorId,
    reason: input.reason,
    now: input.now,
  });
}

/**
 * Ends an active hold without a booking (declined waitlist offer, event cancelled) and frees the seats it still
 * holds. Returns null when the hold was no longer active (lapsed and swept, booked, released): nothing to free.
 */
export async function releaseHold(trx: Trx, input: { eventId: number; holdId: number; actorId: number | null; reason: string; now: number }): Promise<TransitionResult | null> {
  const claimed = await trx('holds').where({ id: input.holdId, status: 'active' }).update({ status: 'released' });
  if (claimed !== 1) return null;
  const seats = await readSeatsOfHold(trx, input.holdId);
  return transitionSeats(trx, { eventId: input.eventId, seats, to: 'available', actorId: input.actorId, reason: input.reason, now: input.now });
}

/** Blocks free seats (house seats, broken seats) or makes blocked seats available again. */
export function setBlocked(trx: Trx, input: { eventId: number; seats: Seats; blocked: boolean; actorId: number; reason: string; now: number }): Promise<TransitionResult> {
  return transitionSeats(trx, { eventId: input.eventId, seats: input.seats, to: input.blocked ? 'blocked' : 'available', actorId: input.actorId, reason: input.reason, now: input.now });
}

/**
 * Cancels one confirmed booking: the booking, its seat lines and its seats, and its `booking.cancelled` outbox
 * row (webhooks), all in the caller's transaction.
 */
export async function cancelBooking(
  trx: Trx,
  booking: { id: number; event_id: number; user_id: number; reference: string },
  opts: { actorId: number | null; reason: string; now: number },
): Promise<TransitionResult> {
  const claimed = await trx('bookings').where({ id: booking.id, status: 'confirmed' }).update({ status: 'cancelled', cancelled_at: opts.now });
  if (claimed !== 1) throw new RetryableConflict('booking changed');
  await trx('booking_seats').where({ booking_id: booking.id }).update({ active: null });
  const seats = (await trx('event_seats').where({ booking_id: booking.id, status: 'booked' }).select('seat_id', 'status', 'version')) as SeatRow[];
  const result = await transitionSeats(trx, { eventId: booking.event_id, seats, to: 'available', actorId: opts.actorId, reason: opts.reason, now: opts.now });
  const data = { bookingId: booking.id, reference: booking.reference, eventId: booking.event_id, userId: booking.user_id, reason: opts.reason, seatIds: seats.map((s) => s.seat_id).sort((a, b) => a - b) };
  await appendOutbox(trx, [{ type: 'booking.cancelled', data }], opts.now);
  return result;
}

/**
 * Moves a confirmed booking from `toFree` to `toTake` (free seats as read, with their prices): booking seat lines,
 * both transitions and the new total, in the caller's transaction.
 */
export async function reseatBooking(
  trx: Trx,
  input: { eventId: number; bookingId: number; toFree: Seats; toTake: (Pick<SeatRow, 'seat_id' | 'status' | 'version' | 'price_cents'>)[]; actorId: number; now: number },
): Promise<{ freed: TransitionResult; taken: TransitionResult }> {
  const { eventId, bookingId, toFree, toTake, actorId, now } = input;
  if (toFree.length) {
    // Deleted, not deactivated: a booking's seat list shows every row (a cancelled booking keeps its inactive
    // rows), and after a move it must list the new seats only. seat_changes keeps the history.
    await trx('booking_seats').where({ booking_id: bookingId }).whereIn('seat_id', toFree.map((s) => s.seat_id)).delete();
  }
  const freed = await transitionSeats(trx, { eventId, seats: toFree, to: 'available', actorId, reason: 'reseat_out', now });
  if (toTake.length) {
    await trx('booking_seats').insert(toTake.map((s) => ({ booking_id: bookingId, event_id: eventId, seat_id: s.seat_id, price_cents: s.price_cents, active: true })));
  }
  const taken = await transitionSeats(trx, { eventId, seats: toTake, to: 'booked', bookingId, actorId, reason: 'reseat_in', now });
  const [{ total }] = (await trx('booking_seats').where({ booking_id: bookingId }).whereNotNull('active').sum({ total: 'price_cents' })) as [{ total: number | string | null }];
  await trx('bookings').where({ id: bookingId }).update({ total_cents: Number(total ?? 0) });
  return { freed, taken };
}

/** Stocks a new event: one available seat row per seat of its venue, at its category's price. */
export async function stockEventSeats(trx: Trx, eventId: number, seats: { seatId: number; priceCents: number }[]): Promise<void> {
  const rows = seats.map((s) => ({ event_id: eventId, seat_id: s.seatId, status: 'available', version: 1, price_cents: s.priceCents }));
  await insertInChunks(trx, 'event_seats', rows);
}

/** A new price for a category's seats that are not booked yet (bookings keep the price they were sold at). */
export async function repriceSeats(trx: Trx, input: { eventId: number; venueId: number; category: string; priceCents: number }): Promise<void> {
  await trx('event_seats')
    .where('event_id', input.eventId)
    .whereNot('status', 'booked')
    .whereIn('seat_id', trx('seats').where({ venue_id: input.venueId, category: input.category }).select('id'))
    .update({ price_cents: input.priceCents });
}
