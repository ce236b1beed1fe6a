import type { Knex } from 'knex';
import type { HoldExtras } from '../ga/hold-extras';
import type { AuthUser } from '../accounts/auth-user';
import { isStaff } from '../accounts/auth-user';
import type { Db } from '../db/knex';
import { isDuplicateKey, RetryableConflict, withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import { CURRENCY } from '../events/service';
import type { Notifier } from '../realtime/notifier';
import type { BookingView } from '../realtime/protocol';
import { assertLive, assertOnSale, loadEventRules, loadHoldForActor } from '../seats/hold-rules';
import { readSeatsOfHold, transitionSeats, type SeatRow, type TransitionResult } from '../seats/seat-store';
import type { Clock } from '../shared/clock';
import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError } from '../shared/errors';
import { newOrderReference } from '../shared/ids';
import type { Page } from '../shared/validation';
import type { ListBookingsQuery } from './schemas';

export interface BookingsDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  retry?: RetryOptions;
  onSeatsFreed?: (eventId: number, seatIds: number[]) => void;
  /** What holds carry besides seats (general-admission tickets), booked and cancelled with them. */
  holdExtras?: HoldExtras;
}

interface BookingRow {
  id: number;
  reference: string;
  event_id: number;
  user_id: number;
  hold_id: number | null;
  idempotency_key: string;
  customer_name: string | null;
  customer_email: string | null;
  status: 'confirmed' | 'cancelled';
  total_cents: number;
  created_at: number;
  cancelled_at: number | null;
}

/** Bookings: confirming a hold (idempotently), listing, cancelling. */
export class BookingsService {
  constructor(private readonly deps: BookingsDeps) {}

  /**
   * Books every seat of a live hold. The booking belongs to the hold's owner; a repeat with the same
   * idempotency key returns the first booking (even after the hold is gone), while the same key with
   * another hold is a 422. A unique index on active booking seats is the last line of defence.
   */
  async confirm(actor: AuthUser, holdToken: string, idempotencyKey: string): Promise<{ booking: BookingView; replayed: boolean }> {
    const attempt = async (): Promise<{ booking: BookingRow; replayed: boolean; result?: TransitionResult; extrasChanged?: boolean }> =>
      withTransaction(
        this.deps.db,
        async (trx) => {
          const now = this.deps.clock.now();
          const hold = await loadHoldForActor(trx, holdToken, actor, now, { live: false });
          const previous = (await trx('bookings').where({ user_id: hold.user_id, idempotency_key: idempotencyKey }).first()) as BookingRow | undefined;
          if (previous) {
            if (previous.hold_id !== hold.id) throw new UnprocessableError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used for another hold');
            return { booking: previous, replayed: true };
          }
          assertLive(hold, now);
          assertOnSale(await loadEventRules(trx, hold.event_id));
          const claimed = await trx('holds').where({ id: hold.id, status: 'active' }).andWhere('expires_at', '>', now).update({ status: 'booked' });
          if (claimed !== 1) throw new RetryableConflict('hold changed');
          const seats = await readSeatsOfHold(trx, hold.id);
          const extra = (await this.deps.holdExtras?.holdTotals(trx, hold.id)) ?? { count: 0, totalCents: 0 };
          if (seats.length === 0 && extra.count === 0) throw new ConflictError('HOLD_EMPTY', 'This hold has no seats left to book');
          const total = seats.reduce((sum, s) => sum + s.price_cents, 0) + extra.totalCents;
          const row = {
            reference: newOrderReference(),
            event_id: hold.event_id,
            user_id: hold.user_id,
            hold_id: hold.id,
            idempotency_key: idempotencyKey,
            customer_name: hold.customer_name,
            customer_email: hold.customer_email,
            status: 'confirmed' as const,
            total_cents: total,
            created_at: now,
            cancelled_at: null,
          };
          const [id] = await trx('bookings').insert(row);
          const bookingId = Number(id);
          if (seats.length) await trx('booking_seats').insert(
            seats.map((s) => ({ booking_id: bookingId, event_id: hold.event_id, seat_id: s.seat_id, price_cents: s.price_cents, active: true })),
          );
          const extrasChanged = (await this.deps.holdExtras?.bookHold(trx, hold.id, bookingId)) ?? false;
          const result = await transitionSeats(trx, {
            eventId: hold.event_id,
            seats,
            to: 'booked',
            bookingId,
            actorId: actor.id,
            reason: hold.user_id === actor.id ? 'book' : 'box_office_book',
            now,
          });
          return { booking: { ...row, id: bookingId }, replayed: false, result, extrasChanged };
        },
        this.deps.retry,
      );
    let out;
    try {
      out = await attempt();
    } catch (err) {
      // Two confirms with one key raced: the loser hit the unique (user, key) index. Answer with the winner's.
      if (isDuplicateKey(err)) out = await attempt();
      else throw err;
    }
    if (out.result) this.deps.notifier.seatsChanged(out.booking.event_id, out.result.seats, out.result.cursor);
    if (out.extrasChanged) this.deps.holdExtras?.changed(out.booking.event_id);
    return { booking: await this.view(this.deps.db, out.booking), replayed: out.replayed };
  }

  async list(actor: AuthUser, query: ListBookingsQuery, opts: { all: boolean }): Promise<Page<BookingView>> {
    const base = this.deps.db('bookings').modify((q) => {
      if (!(opts.all && isStaff(actor))) q.where('user_id', actor.id);
      if (query.eventId) q.where('event_id', query.eventId);
      if (query.status) q.where('status', query.status);
    });
    const [rows, [{ n }]] = await Promise.all([
      base
        .clone()
        .orderBy('created_at', query.sort === 'createdAt' ? 'asc' : 'desc')
        .orderBy('id', query.sort === 'createdAt' ? 'asc' : 'desc')
        .offset((query.page - 1) * query.limit)
        .limit(query.limit)
        .select(),
      base.clone().count({ n: '*' }) as unknown as Promise<[{ n: number | string }]>,
    ]);
    const items = await Promise.all((rows as BookingRow[]).map((r) => this.view(this.deps.db, r)));
    return { items, page: query.page, limit: query.limit, total: Number(n) };
  }

  async get(actor: AuthUser, bookingId: number): Promise<BookingView> {
    const row = (await this.deps.db('bookings').where({ id: bookingId }).first()) as BookingRow | undefined;
    if (!row || (row.user_id !== actor.id && !isStaff(actor))) throw new NotFoundError('Booking', 'BOOKING_NOT_FOUND');
    return this.view(this.deps.db, row);
  }

  /**
   * Cancels a booking: the owner before the event starts, staff at any time. Its seats become available
   * again (and are offered to the waitlist).
   */
  async cancel(actor: AuthUser, bookingId: number, reason = 'cancel'): Promise<BookingView> {
    const { booking, result } = await withTransaction(
      this.deps.db,
      async (trx) => {
        const now = this.deps.clock.now();
        const booking = (await trx('bookings').where({ id: bookingId }).first()) as BookingRow | undefined;
        if (!booking || (booking.user_id !== actor.id && !isStaff(actor))) throw new NotFoundError('Booking', 'BOOKING_NOT_FOUND');
        if (booking.status === 'cancelled') throw new ConflictError('BOOKING_ALREADY_CANCELLED', 'This booking is already cancelled');
        if (!isStaff(actor)) {
          const event = await trx('events').where({ id: booking.event_id }).first('starts_at');
          if (Number(event.starts_at) <= now) throw new ForbiddenError('Bookings cannot be cancelled once the event has started');
        }
        const result = await cancelBookingInTrx(trx, booking, { actorId: actor.id, reason, now });
        await this.deps.holdExtras?.cancelBooking(trx, booking.id);
        return { booking: { ...booking, status: 'cancelled' as const, cancelled_at: now }, result };
      },
      this.deps.retry,
    );
    this.deps.notifier.seatsChanged(booking.event_id, result.seats, result.cursor);
    this.deps.onSeatsFreed?.(booking.event_id, result.seats.map((s) => s.id));
    this.deps.holdExtras?.changed(booking.event_id);
    return this.view(this.deps.db, booking);
  }

  private async view(db: Knex, b: BookingRow): Promise<BookingView> {
    const seats = await db('booking_seats as bs')
      .join('seats as s', 's.id', 'bs.seat_id')
      .join('sections as sec', 'sec.id', 's.section_id')
      .where('bs.booking_id', b.id)
      .orderBy('bs.seat_id')
      .select('bs.seat_id', 'bs.price_cents', 's.label', 's.row_label', 's.number', 's.category', 'sec.name as section');
    const ga = this.deps.holdExtras ? await this.deps.holdExtras.bookingLines(db, b.id) : [];
    return {
      id: b.id,
      reference: b.reference,
      eventId: b.event_id,
      status: b.status,
      totalCents: b.total_cents,
      currency: CURRENCY,
      seats: seats.map((s) => ({
        seatId: s.seat_id,
        label: s.label,
        section: s.section,
        row: s.row_label,
        number: s.number,
        category: s.category,
        priceCents: s.price_cents,
      })),
      ...(b.customer_name ? { customer: { name: b.customer_name, email: b.customer_email } } : {}),
      ...(ga.length ? { ga } : {}),
      createdAt: new Date(Number(b.created_at)).toISOString(),
      ...(b.cancelled_at ? { cancelledAt: new Date(Number(b.cancelled_at)).toISOString() } : {}),
    };
  }
}

/** Cancels one booking inside a caller's transaction (also used when a whole event is cancelled). */
export async function cancelBookingInTrx(
  trx: Trx,
  booking: Pick<BookingRow, 'id' | 'event_id'>,
  opts: { actorId: number | null; reason: string; now: number },
): Promise<TransitionResult> {
  const claimed = await trx('bookings').where({ id: booking.id, status: 'confirmed' }).update({ status: 'cancelled', cancelled_at: opts.now });
  if (claimed !== 1) throw new RetryableConflict('booking changed');
  await trx('booking_seats').where({ booking_id: booking.id }).update({ active: null });
  const seats = (await trx('event_seats').where({ booking_id: booking.id, status: 'booked' }).select('seat_id', 'status', 'version')) as SeatRow[];
  return transitionSeats(trx, { eventId: booking.event_id, seats, to: 'available', actorId: opts.actorId, reason: opts.reason, now: opts.now });
}
