import type { Db } from '../db/knex';
import type { ChangesQuery, ChangeView } from '../contracts/reports';
import { NotFoundError } from '../shared/errors';

export interface ChangeLogDeps {
  db: Db;
}

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

/** The seat_changes log as staff read it: an event's changes (filtered, paged) and one seat's history, with actors and labels. */
export class ChangeLog {
  constructor(private readonly deps: ChangeLogDeps) {}

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
}
