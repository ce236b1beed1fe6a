import type { Knex } from 'knex';
import type { HoldExtras } from '../inventory/hold-extras';
import type { AuthUser } from '../shared/auth-user';
import { isStaff } from '../shared/auth-user';
import type { Db } from '../db/knex';
import { withTransaction, type RetryOptions } from '../db/transaction';
import { CURRENCY } from '../events/service';
import type { BookedNow, BookingRow } from '../inventory/commands';
import { cancelBooking } from '../inventory/operations';
import type { InventoryService } from '../inventory/service';
import type { Notifier } from '../realtime/notifier';
import type { BookingSeatView, BookingView, GaLine, SeatView } from '../contracts';
import type { Clock } from '../shared/clock';
import { ConflictError, ForbiddenError, NotFoundError } from '../shared/errors';
import type { Page } from '../shared/validation';
import type { ListBookingsQuery } from '../contracts/bookings';

export interface BookingsDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  retry?: RetryOptions;
  onSeatsFreed?: (eventId: number, seatIds: number[]) => void;
  /** The inventory core books holds (group-committed per event). */
  inventory: InventoryService;
  /** What holds carry besides seats (general-admission tickets), booked and cancelled with them. */
  holdExtras?: HoldExtras;
  /** A buyer booked (not a replay): the waiting room passes their slot on. */
  onBooked?: (eventId: number, userId: number) => Promise<void>;
  /** The seats of an event's venue by id (PublishedLayouts): a new booking's answer is built without a read. */
  seatDirectory?: { seatsOf(eventId: number): Promise<ReadonlyMap<number, SeatView>> };
}


/** Bookings: confirming a hold (idempotently), listing, cancelling. */
export class BookingsService {
  constructor(private readonly deps: BookingsDeps) {}

  /**
   * Books every seat of a live hold, through the inventory's group commit. The booking belongs to the hold's
   * owner; a repeat with the same idempotency key returns the first booking (even after the hold is gone),
   * while the same key with another hold is a 422. A unique index on active booking seats is the last line
   * of defence.
   */
  async confirm(actor: AuthUser, holdToken: string, idempotencyKey: string): Promise<{ booking: BookingView; replayed: boolean }> {
    const out = await this.deps.inventory.book(actor, holdToken, idempotencyKey);
    // Awaited (it never throws): once the buyer has the booking, their slot has passed on. Alongside the view,
    // so the answer waits for the longer of the two, not for each in turn.
    const [, booking] = await Promise.all([
      out.replayed ? undefined : this.deps.onBooked?.(out.booking.event_id, out.booking.user_id),
      out.booked ? this.viewOfNew(out.booking, out.booked) : this.view(this.deps.db, out.booking),
    ]);
    return { booking, replayed: out.replayed };
  }

  /**
   * A booking just made, answered from what its batch wrote and the venue's seats (fixed once created), not read
   * back: in a flash sale those two reads per booking took a pool connection each for ~40 ms behind the batch's
   * COMMIT, and the next batches waited for connections (load/README.md, issue 17, "a booking's answer without a
   * read"). General-admission lines are read only when the booking took tickets.
   */
  private async viewOfNew(b: BookingRow, booked: BookedNow): Promise<BookingView> {
    const directory = this.deps.seatDirectory;
    if (!directory) return this.view(this.deps.db, b);
    const [venueSeats, ga] = await Promise.all([
      directory.seatsOf(b.event_id),
      booked.gaTickets > 0 && this.deps.holdExtras ? this.deps.holdExtras.bookingLines(this.deps.db, b.id) : [],
    ]);
    const seats: BookingSeatView[] = [];
    for (const { seatId, priceCents } of booked.seats) {
      const seat = venueSeats.get(seatId);
      // Never expected (an event's seats are its venue's): the booking as the database has it, then.
      if (!seat) return this.view(this.deps.db, b);
      seats.push({ seatId, label: seat.label, section: seat.section, row: seat.row, number: seat.number, category: seat.category, priceCents });
    }
    return toView(b, seats, ga);
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
    const { booking, result, gaChanged } = await withTransaction(
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
        const result = await cancelBooking(trx, booking, { actorId: actor.id, reason, now });
        const gaChanged = (await this.deps.holdExtras?.cancelBooking(trx, booking.id)) ?? false;
        return { booking: { ...booking, status: 'cancelled' as const, cancelled_at: now }, result, gaChanged };
      },
      this.deps.retry,
    );
    this.deps.notifier.seatsChanged(booking.event_id, result.seats, result.cursor);
    this.deps.onSeatsFreed?.(booking.event_id, result.seats.map((s) => s.id));
    // Only a booking with general-admission tickets changes GA availability; a seats-only one says nothing.
    if (gaChanged) this.deps.holdExtras?.changed(booking.event_id);
    return this.view(this.deps.db, booking);
  }

  private async view(db: Knex, b: BookingRow): Promise<BookingView> {
    // The seats and the GA lines are read together: a booking's answer waits for one round trip, not two.
    const [seats, ga] = await Promise.all([
      db('booking_seats as bs')
        .join('seats as s', 's.id', 'bs.seat_id')
        .join('sections as sec', 'sec.id', 's.section_id')
        .where('bs.booking_id', b.id)
        .orderBy('bs.seat_id')
        .select('bs.seat_id', 'bs.price_cents', 's.label', 's.row_label', 's.number', 's.category', 'sec.name as section'),
      this.deps.holdExtras ? this.deps.holdExtras.bookingLines(db, b.id) : [],
    ]);
    const view = seats.map(
      (s: { seat_id: number; price_cents: number; label: string; section: string; row_label: string; number: number; category: string }): BookingSeatView => ({
        seatId: s.seat_id,
        label: s.label,
        section: s.section,
        row: s.row_label,
        number: s.number,
        category: s.category,
        priceCents: s.price_cents,
      }),
    );
    return toView(b, view, ga);
  }
}

/** A booking as its owner sees it, from its row, its seats (in seat order) and its GA lines. */
function toView(b: BookingRow, seats: BookingSeatView[], ga: GaLine[]): BookingView {
  return {
    id: b.id,
    reference: b.reference,
    eventId: b.event_id,
    status: b.status,
    totalCents: b.total_cents,
    currency: CURRENCY,
    seats,
    ...(b.customer_name ? { customer: { name: b.customer_name, email: b.customer_email } } : {}),
    ...(ga.length ? { ga } : {}),
    createdAt: new Date(Number(b.created_at)).toISOString(),
    ...(b.cancelled_at ? { cancelledAt: new Date(Number(b.cancelled_at)).toISOString() } : {}),
  };
}
