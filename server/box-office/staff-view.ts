import type { Db } from '../db/knex';
import type { Trx } from '../db/transaction';
import type { SeatState, StaffSnapshot } from '../contracts';
import { toSeatState } from '../inventory/seat-store';
import { NotFoundError } from '../shared/errors';

export interface StaffViewDeps {
  db: Db;
}

/** Who holds or booked a seat (a walk-in customer's name when a clerk held it for one). */
export type Holder = NonNullable<SeatState['holder']>;

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

/**
 * What box office and admin see that buyers never do: who holds or booked each seat (and a held seat's hold token),
 * in the staff snapshot and on every broadcast batch sent to staff sockets.
 */
export class StaffView {
  constructor(private readonly deps: StaffViewDeps) {}

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
