import type { Knex } from 'knex';
import type { Trx } from '../db/transaction';
import { RetryableConflict } from '../db/transaction';
import { insertInChunks } from '../db/chunked-insert';
import { isMysql } from '../db/knex';
import { caseBySeat } from './seat-cas';
import type { SeatState, SeatStatus } from '../contracts';

/** A seat as read inside a transaction, before it is changed. */
export interface SeatRow {
  seat_id: number;
  status: SeatStatus;
  version: number;
  hold_id: number | null;
  hold_expires_at: number | null;
  booking_id: number | null;
  price_cents: number;
}

export interface TransitionInput {
  eventId: number;
  /** The seats as read, with the version each must still have. */
  seats: Pick<SeatRow, 'seat_id' | 'status' | 'version'>[];
  to: SeatStatus;
  holdId?: number | null;
  holdExpiresAt?: number | null;
  bookingId?: number | null;
  actorId: number | null;
  reason: string;
  now: number;
}

/** What one committed transition produced: the new seat states and the highest seat_changes id. */
export interface TransitionResult {
  seats: SeatState[];
  cursor: number;
}

/** The index on the hold a seat is in (migrations): a hold's seats are read through it, not by scanning the event's. */
export const SEAT_HOLD_INDEX = 'event_seats_hold_id_index';

/** The columns of a seat row as the inventory reads it for a change. */
export const SEAT_COLUMNS = ['seat_id', 'status', 'version', 'hold_id', 'hold_expires_at', 'booking_id', 'price_cents'] as const;

/** A seat's state as replies and broadcasts carry it (expiry only for a held seat). */
export function toSeatState(r: Pick<SeatRow, 'seat_id' | 'status' | 'version' | 'hold_expires_at'>): SeatState {
  return r.status === 'held' && r.hold_expires_at
    ? { id: r.seat_id, status: r.status, version: r.version, expiresAt: new Date(Number(r.hold_expires_at)).toISOString() }
    : { id: r.seat_id, status: r.status, version: r.version };
}

/** Free to take: available, or held by a hold that has lapsed by the database's record (sweeper or not). */
export function isSeatFree(r: Pick<SeatRow, 'status' | 'hold_expires_at'>, now: number): boolean {
  return r.status === 'available' || (r.status === 'held' && r.hold_expires_at !== null && Number(r.hold_expires_at) <= now);
}

/** A seat with its place in the layout: what seat choosers (best available, waitlist) rank by. */
export interface LaidOutSeat extends SeatRow {
  section_id: number;
  section_name: string;
  sort_order: number;
  row_label: string;
  number: number;
  category: string;
}

/** Seats of an event joined with their section, row and number, optionally narrowed. */
export async function readLaidOutSeats(
  trx: Trx,
  eventId: number,
  filter: { status?: SeatStatus; category?: string; section?: string; accessible?: boolean } = {},
): Promise<LaidOutSeat[]> {
  return (await trx('event_seats as es')
    .join('seats as s', 's.id', 'es.seat_id')
    .join('sections as sec', 'sec.id', 's.section_id')
    .where('es.event_id', eventId)
    .modify((q) => {
      if (filter.status) q.where('es.status', filter.status);
      if (filter.category) q.where('s.category', filter.category);
      if (filter.section) q.where('sec.name', filter.section);
      if (filter.accessible) q.where('s.accessible', true);
    })
    .select(
      ...SEAT_COLUMNS.map((c) => `es.${c}`),
      's.section_id',
      'sec.name as section_name',
      'sec.sort_order',
      's.row_label',
      's.number',
      's.category',
    )) as LaidOutSeat[];
}

/** Reads seats of one event by id (a plain read; the write that follows re-checks the version). */
export async function readSeats(trx: Knex, eventId: number, seatIds: number[]): Promise<SeatRow[]> {
  return trx('event_seats').where('event_id', eventId).whereIn('seat_id', seatIds).select(SEAT_COLUMNS) as Promise<SeatRow[]>;
}

export async function readSeatsOfHold(trx: Trx, holdId: number): Promise<(SeatRow & { event_id: number })[]> {
  return trx('event_seats').where({ hold_id: holdId, status: 'held' }).select(['event_id', ...SEAT_COLUMNS]) as Promise<
    (SeatRow & { event_id: number })[]
  >;
}

/**
 * The one place a seat changes state. A single compare-and-set UPDATE over all the seats, each guarded by
 * the version it was read at; if fewer rows change than were asked for, somebody else got there first and
 * the whole transaction is rolled back and retried (the retry's fresh read then reports the seats as taken,
 * or succeeds if they were merely re-versioned). One seat_changes row per seat is written in the same
 * transaction, so the log and the seats cannot disagree.
 */
export async function transitionSeats(trx: Trx, input: TransitionInput): Promise<TransitionResult> {
  const { seats } = input;
  if (seats.length === 0) return { seats: [], cursor: 0 };
  const sorted = [...seats].sort((a, b) => a.seat_id - b.seat_id);
  const changed = await trx('event_seats')
    .where('event_id', input.eventId)
    .whereIn('seat_id', sorted.map((s) => s.seat_id))
    // Each seat guarded by its read version as one flat CASE, not a chain of ORs (SQLite refuses an expression
    // tree deeper than 1,000, and N ORs are N deep).
    .andWhere('version', caseBySeat(trx, sorted, (s) => s.version))
    .update({
      status: input.to,
      version: trx.raw('version + 1'),
      hold_id: input.holdId ?? null,
      hold_expires_at: input.holdExpiresAt ?? null,
      booking_id: input.bookingId ?? null,
    });
  if (changed !== sorted.length) {
    throw new RetryableConflict(`seat version moved: changed ${changed} of ${sorted.length}`);
  }
  const rows = sorted.map((s) => ({
    event_id: input.eventId,
    seat_id: s.seat_id,
    from_status: s.status,
    to_status: input.to,
    version: s.version + 1,
    actor_id: input.actorId,
    reason: input.reason,
    hold_id: input.holdId ?? null,
    booking_id: input.bookingId ?? null,
    hold_expires_at: input.holdExpiresAt ?? null,
    created_at: input.now,
  }));
  const cursor = await insertChanges(trx, rows);
  const expiresAt = input.to === 'held' && input.holdExpiresAt ? new Date(input.holdExpiresAt).toISOString() : undefined;
  return {
    seats: sorted.map((s) => (expiresAt ? { id: s.seat_id, status: input.to, version: s.version + 1, expiresAt } : { id: s.seat_id, status: input.to, version: s.version + 1 })),
    cursor,
  };
}

/**
 * Inserts change rows and returns the highest id. MySQL: one statement, which reports the *first* id of a
 * multi-row insert (InnoDB gives a simple multi-row insert consecutive ids). SQLite: in chunks (insertInChunks,
 * its compound-SELECT limit), the last reporting the last row's id.
 */
export async function insertChanges(trx: Trx, rows: Record<string, unknown>[]): Promise<number> {
  if (isMysql(trx)) {
    const [id] = await trx('seat_changes').insert(rows);
    return Number(id) + rows.length - 1;
  }
  return insertInChunks(trx, 'seat_changes', rows);
}
