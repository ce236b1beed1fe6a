import type { AuthUser } from '../shared/auth-user';
import type { Db } from '../db/knex';
import { withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { Notifier } from '../realtime/notifier';
import type { BookingView, SeatState } from '../contracts';
import { isSeatFree, readSeats, toSeatState, type SeatRow, type TransitionResult } from '../inventory/seat-store';
import { reseatBooking, setBlocked } from '../inventory/operations';
import type { BookingsService } from '../bookings/service';
import type { Clock } from '../shared/clock';
import { ConflictError, NotFoundError, SeatUnavailableError } from '../shared/errors';
import type { BLOCK_REASONS, ChangesQuery, ChangeView } from './schemas';

export interface BoxOfficeDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  bookings: BookingsService;
  retry?: RetryOptions;
  /** Seats that became available (unblock, reseat): the waitlist gets first go at them. */
  onSeatsFreed?: (eventId: number, seatIds: number[]) => void;
}

export interface Holder {
  userId: number;
  name: string;
  email: string;
}

/** Staff snapshot: the buyer snapshot plus who holds or booked each seat. */
export interface StaffSnapshot {
  eventId: number;
  cursor: number;
  seats: (SeatState & { holder?: Holder })[];
}

interface HolderRow {
  seat_id: number;
  status: SeatState['status'];
  version: number;
  hold_expires_at: number | null;
  h_user_id: number | null;
  h_token: string | null;
  h_customer_name: string | null;
  h_customer_email: string | null;
  hu_name: string | null;
  hu_email: string | null;
  b_user_id: number | null;
  b_customer_name: string | null;
  b_customer_email: string | null;
  bu_name: string | null;
  bu_email: string | null;
}

const IN_CHUNK = 500;

interface ChangeRow {
  id: number | string;
  seat_id: number;
  from_status: string;
  to_status: string;
  version: number;
  actor_id: number | null;
  reason: string;
  hold_id: number | null;
  booking_id: number | null;
  created_at: number | string;
  label: string | null;
  actor_name: string | null;
  actor_role: string | null;
}

/**
 * Box office: the live view with holders (staff only), blocking seats, moving a booking to other seats,
 * cancelling anyone's booking, and the seat_changes log. Holding and booking for a walk-in customer reuse
 * the seat core (SeatsService.hold with a customer, BookingsService.confirm), so they keep its guarantees.
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
   * Every seat of the event with its holder, for box office terminals (drafts included: staff set them up).
   * The cursor is read before the seats, as in the buyer snapshot, so nothing between is lost.
   */
  async staffSnapshot(eventId: number): Promise<StaffSnapshot> {
    const db = this.deps.db;
    const event = await db('events').where({ id: eventId }).first('id');
    if (!event) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
    const row = (await db('seat_changes').where({ event_id: eventId }).max({ m: 'id' }).first()) as { m: number | string | null } | undefined;
    const cursor = Number(row?.m ?? 0);
    const rows = await this.holderQuery(db, eventId);
    return { eventId, cursor, seats: rows.map((r) => withHolder(r)) };
  }

  /**
   * Fills in `holder` on broadcast seat states. A holder is attached only when the seat is still at the
   * broadcast version: if it moved on since, the later change carries the later holder, so a staff client
   * never pairs a version with someone else's name. `db` lets the broadcaster read on a connection of its
   * own, so staff batches do not queue behind buyers' transactions in the main pool.
   */
  async withHolders(eventId: number, seats: SeatState[], db: Db = this.deps.db): Promise<SeatState[]> {
    const wanted = seats.filter((s) => s.status === 'held' || s.status === 'booked').map((s) => s.id);
    if (wanted.length === 0) return seats;
    const byId = new Map<number, HolderRow>();
    for (let i = 0; i < wanted.length; i += IN_CHUNK) {
      for (const r of await this.holderQuery(db, eventId, wanted.slice(i, i + IN_CHUNK))) byId.set(r.seat_id, r);
    }
    return seats.map((s) => {
      const r = byId.get(s.id);
      if (!r || r.version !== s.version || r.status !== s.status) return s;
      const holder = holderOf(r);
      return holder ? { ...s, holder, ...holdTokenOf(r) } : s;
    });
  }

  private holderQuery(db: Db | Trx, eventId: number, seatIds?: number[]): Promise<HolderRow[]> {
    return db('event_seats as es')
      .leftJoin('holds as h', function () {
        this.on('h.id', '=', 'es.hold_id').andOnVal('es.status', '=', 'held');
      })
      .leftJoin('users as hu', 'hu.id', 'h.user_id')
      .leftJoin('bookings as b', function () {
        this.on('b.id', '=', 'es.booking_id').andOnVal('es.status', '=', 'booked');
      })
      .leftJoin('users as bu', 'bu.id', 'b.user_id')
      .where('es.event_id', eventId)
      .modify((q) => {
        if (seatIds) q.whereIn('es.seat_id', seatIds);
      })
      .orderBy('es.seat_id')
      .select(
        'es.seat_id',
        'es.status',
        'es.version',
        'es.hold_expires_at',
        'h.user_id as h_user_id',
        'h.token as h_token',
        'h.customer_name as h_customer_name',
        'h.customer_email as h_customer_email',
        'hu.name as hu_name',
        'hu.email as hu_email',
        'b.user_id as b_user_id',
        'b.customer_name as b_customer_name',
        'b.customer_email as b_customer_email',
        'bu.name as bu_name',
        'bu.email as bu_email',
      ) as unknown as Promise<HolderRow[]>;
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

  /** One seat's history, oldest first; 404 SEAT_NOT_FOUND when the seat is not one of the event's. */
  async seatHistory(eventId: number, seatId: number): Promise<{ items: ChangeView[]; nextBefore: number | null }> {
    const db = this.deps.db;
    const event = await db('events').where({ id: eventId }).first('id');
    if (!event) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
    const seat = await db('event_seats').where({ event_id: eventId, seat_id: seatId }).first('seat_id');
    if (!seat) throw new NotFoundError('Seat', 'SEAT_NOT_FOUND', { seatIds: [seatId] });
    return this.changes(eventId, { seatId, limit: 500, order: 'oldest' });
  }

  /** The seat_changes log of an event (or one seat of it), newest first by default, with actors and labels. */
  async changes(eventId: number, query: ChangesQuery): Promise<{ items: ChangeView[]; nextBefore: number | null }> {
    const db = this.deps.db;
    const event = await db('events').where({ id: eventId }).first('id');
    if (!event) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
    const rows = await db('seat_changes as sc')
      .leftJoin('seats as s', 's.id', 'sc.seat_id')
      .leftJoin('users as u', 'u.id', 'sc.actor_id')
      .where('sc.event_id', eventId)
      .modify((q) => {
        if (query.seatId) q.where('sc.seat_id', query.seatId);
        if (query.reason) q.where('sc.reason', query.reason);
        if (query.actorId) q.where('sc.actor_id', query.actorId);
        if (query.before) q.where('sc.id', '<', query.before);
      })
      .orderBy('sc.id', query.order === 'newest' ? 'desc' : 'asc')
      .limit(query.limit + 1)
      .select('sc.*', 's.label', 'u.name as actor_name', 'u.role as actor_role');
    const more = rows.length > query.limit;
    const page = rows.slice(0, query.limit) as ChangeRow[];
    return {
      items: page.map(
        (r): ChangeView => ({
          id: Number(r.id),
          seatId: r.seat_id,
          label: r.label ?? '',
          from: r.from_status,
          to: r.to_status,
          version: r.version,
          actor: r.actor_id ? { id: r.actor_id, name: r.actor_name ?? '', role: r.actor_role ?? '' } : null,
          reason: r.reason,
          holdId: r.hold_id ?? null,
          bookingId: r.booking_id ?? null,
          at: new Date(Number(r.created_at)).toISOString(),
        }),
      ),
      nextBefore: more && query.order === 'newest' ? Number(page[page.length - 1]!.id) : null,
    };
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

function holderOf(r: HolderRow): Holder | undefined {
  if (r.status === 'held' && r.h_user_id !== null) {
    return r.h_customer_name
      ? { userId: r.h_user_id, name: r.h_customer_name, email: r.h_customer_email ?? '' }
      : { userId: r.h_user_id, name: r.hu_name ?? '', email: r.hu_email ?? '' };
  }
  if (r.status === 'booked' && r.b_user_id !== null) {
    return r.b_customer_name
      ? { userId: r.b_user_id, name: r.b_customer_name, email: r.b_customer_email ?? '' }
      : { userId: r.b_user_id, name: r.bu_name ?? '', email: r.bu_email ?? '' };
  }
  return undefined;
}

function withHolder(r: HolderRow): SeatState {
  const state = toSeatState(r);
  const holder = holderOf(r);
  return holder ? { ...state, holder, ...holdTokenOf(r) } : state;
}

/** Staff only: a held seat's hold token, so a box office terminal can force-release that hold. */
function holdTokenOf(r: HolderRow): { holdToken?: string } {
  return r.status === 'held' && r.h_token ? { holdToken: r.h_token } : {};
}

/** Available, or held by a hold that has lapsed by the database's record (invariant 4). */

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
