import type { AuthUser } from '../shared/auth-user';
import type { Db } from '../db/knex';
import { withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { Notifier } from '../realtime/notifier';
import type { BLOCK_REASONS, BookingView, SeatState } from '../contracts';
import { isSeatFree, readSeats, toSeatState, type SeatRow, type TransitionResult } from '../inventory/seat-store';
import { reseatBooking, setBlocked } from '../inventory/operations';
import type { BookingsService } from '../bookings/service';
import type { Clock } from '../shared/clock';
import { ConflictError, NotFoundError, SeatUnavailableError } from '../shared/errors';

export interface BoxOfficeDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  bookings: BookingsService;
  retry?: RetryOptions;
  /** Seats that became available (unblock, reseat): the waitlist gets first go at them. */
  onSeatsFreed?: (eventId: number, seatIds: number[]) => void;
}

/**
 * Box office actions on seats and bookings: blocking seats, moving a booking to other seats, cancelling anyone's
 * booking. Holding and booking for a walk-in customer reuse the seat core (SeatsService.hold with a customer,
 * BookingsService.confirm), so they keep its guarantees; who holds what is staff-view.ts.
 */
export class BoxOfficeService {
  constructor(private readonly deps: BoxOfficeDeps) {}

  private tx<T>(body: (trx: Trx) => Promise<T>): Promise<T> {
    return withTransaction(this.deps.db, body, this.deps.retry);
  }

  private publish(eventId: number, result: TransitionResult): void {
    if (result.seats.length) this.deps.notifier.seatsChanged(eventId, result.seats, result.cursor);
  }

  /**
   * Blocks seats (house seats, broken seats) so nobody can hold them. Seats must be free (available, or
   * held by a hold that has lapsed); seats already blocked are left as they are. All or nothing.
   */
  async block(actor: AuthUser, eventId: number, seatIds: number[], reason: (typeof BLOCK_REASONS)[number]): Promise<{ seats: SeatState[] }> {
    const result = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      await loadLiveEvent(trx, eventId);
      const rows = await readExisting(trx, eventId, seatIds);
      const taken = rows.filter((r) => r.status !== 'blocked' && !isSeatFree(r, now)).map((r) => r.seat_id);
      if (taken.length) throw new SeatUnavailableError(taken.sort((a, b) => a - b));
      return setBlocked(trx, { eventId, seats: rows.filter((r) => r.status !== 'blocked'), blocked: true, actorId: actor.id, reason: `block_${reason}`, now });
    });
    this.publish(eventId, result);
    return { seats: await this.current(eventId, seatIds) };
  }

  /** Makes blocked seats available again; they are offered to the waitlist first. All or nothing. */
  async unblock(actor: AuthUser, eventId: number, seatIds: number[]): Promise<{ seats: SeatState[] }> {
    const result = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      await loadLiveEvent(trx, eventId);
      const rows = await readExisting(trx, eventId, seatIds);
      const notBlocked = rows.filter((r) => r.status !== 'blocked').map((r) => r.seat_id);
      if (notBlocked.length) throw new ConflictError('SEAT_NOT_BLOCKED', 'Some of these seats are not blocked', { seatIds: notBlocked.sort((a, b) => a - b) });
      return setBlocked(trx, { eventId, seats: rows, blocked: false, actorId: actor.id, reason: 'unblock', now });
    });
    this.publish(eventId, result);
    if (result.seats.length) this.deps.onSeatsFreed?.(eventId, result.seats.map((s) => s.id));
    return { seats: await this.current(eventId, seatIds) };
  }

  /**
   * Moves a confirmed booking to `seatIds` in one transaction: the new seats must be free, seats in both
   * sets stay put, the old ones are freed, prices and the total follow the new seats. Either the whole move
   * happens or nothing does.
   */
  async reseat(actor: AuthUser, bookingId: number, seatIds: number[]): Promise<BookingView> {
    const { eventId, taken, freed } = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      const booking = (await trx('bookings').where({ id: bookingId }).first('id', 'event_id', 'status')) as
        | { id: number; event_id: number; status: string }
        | undefined;
      if (!booking) throw new NotFoundError('Booking', 'BOOKING_NOT_FOUND');
      if (booking.status !== 'confirmed') throw new ConflictError('BOOKING_ALREADY_CANCELLED', 'A cancelled booking cannot be moved');
      const eventId = booking.event_id;
      await loadLiveEvent(trx, eventId);
      const current = (await trx('event_seats').where({ event_id: eventId, booking_id: bookingId, status: 'booked' }).select('seat_id', 'status', 'version')) as SeatRow[];
      const wanted = new Set(seatIds);
      const have = new Set(current.map((s) => s.seat_id));
      const toFree = current.filter((s) => !wanted.has(s.seat_id));
      const toTakeIds = seatIds.filter((id) => !have.has(id));
      if (toTakeIds.length === 0 && toFree.length === 0) return { eventId, taken: null, freed: null };
      const toTake = await readExisting(trx, eventId, toTakeIds);
      const unavailable = toTake.filter((r) => !isSeatFree(r, now)).map((r) => r.seat_id);
      if (unavailable.length) throw new SeatUnavailableError(unavailable.sort((a, b) => a - b));

      const { freed, taken } = await reseatBooking(trx, { eventId, bookingId, toFree, toTake, actorId: actor.id, now });
      return { eventId, taken, freed };
    });
    if (taken && freed) {
      this.deps.notifier.seatsChanged(eventId, [...freed.seats, ...taken.seats], Math.max(freed.cursor, taken.cursor));
      if (freed.seats.length) this.deps.onSeatsFreed?.(eventId, freed.seats.map((s) => s.id));
    }
    return this.deps.bookings.get(actor, bookingId);
  }

  /** Cancels anyone's booking (staff), whenever, and tells the booker's sockets. */
  async cancelBooking(actor: AuthUser, bookingId: number): Promise<BookingView> {
    const view = await this.deps.bookings.cancel(actor, bookingId, 'staff_cancel');
    const row = (await this.deps.db('bookings').where({ id: bookingId }).first('user_id')) as { user_id: number };
    this.deps.notifier.bookingCancelled?.(row.user_id, { eventId: view.eventId, bookingId, reference: view.reference, reason: 'cancelled_by_staff' });
    return view;
  }

  private async current(eventId: number, seatIds: number[]): Promise<SeatState[]> {
    const rows = (await this.deps.db('event_seats')
      .where('event_id', eventId)
      .whereIn('seat_id', seatIds)
      .orderBy('seat_id')
      .select('seat_id', 'status', 'version', 'hold_expires_at')) as SeatRow[];
    return rows.map(toSeatState);
  }
}

async function loadLiveEvent(trx: Trx, eventId: number): Promise<void> {
  const event = (await trx('events').where({ id: eventId }).first('status')) as { status: string } | undefined;
  if (!event) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
  if (event.status === 'cancelled') throw new ConflictError('EVENT_CANCELLED', 'This event is cancelled');
}

/** Reads the seats, or 404 SEAT_NOT_FOUND naming the ids that are not seats of this event. */
async function readExisting(trx: Trx, eventId: number, seatIds: number[]): Promise<SeatRow[]> {
  if (seatIds.length === 0) return [];
  const rows = await readSeats(trx, eventId, seatIds);
  if (rows.length !== seatIds.length) {
    const found = new Set(rows.map((r) => r.seat_id));
    throw new NotFoundError('Seat', 'SEAT_NOT_FOUND', { seatIds: seatIds.filter((id) => !found.has(id)) });
  }
  return rows;
}
