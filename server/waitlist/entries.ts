import type { Knex } from 'knex';
import type { SeatState, WaitlistEntryView, WaitlistStatus } from '../contracts';
import { toSeatState, type SeatRow } from '../inventory/seat-store';
import type { AuthUser } from '../shared/auth-user';
import { isStaff } from '../shared/auth-user';
import type { Clock } from '../shared/clock';
import { NotFoundError } from '../shared/errors';
import { appendOutbox, type DomainEvent } from '../shared/outbox';
import { isMysql } from '../db/knex';

/** A waitlist_entries row: what both the user-facing service and the matcher read. */
export interface EntryRow {
  id: number;
  event_id: number;
  user_id: number;
  party_size: number;
  section: string | null;
  category: string | null;
  together: boolean | number;
  status: WaitlistStatus;
  offer_hold_id: number | null;
  offer_expires_at: number | null;
  version: number;
  created_at: number;
}

/** Entries still in line: waiting, or holding an offer. */
export const ACTIVE: WaitlistStatus[] = ['waiting', 'offered'];

/**
 * 1 when the event of an `events` row has an entry in line, else 0: the inventory reads it with a batch's rules
 * (InventoryDeps.freedSeatsWanted), so seats a batch frees start a matching pass only when someone waits.
 */
export function entriesInLineSql(db: Knex): Knex.Raw {
  return db.raw(`exists(select 1 from waitlist_entries w where w.event_id = events.id and w.status in (${ACTIVE.map(() => '?').join(', ')}))`, ACTIVE);
}

/** An entry, or 404. */
export async function readEntry(db: Knex, entryId: number): Promise<EntryRow> {
  const row = (await db('waitlist_entries').where({ id: entryId }).first()) as EntryRow | undefined;
  if (!row) throw new NotFoundError('Waitlist entry', 'WAITLIST_ENTRY_NOT_FOUND');
  return row;
}

/** The entry if `actor` owns it or is staff; others get the same 404 as for a missing one. */
export async function readEntryFor(db: Knex, actor: AuthUser, entryId: number): Promise<EntryRow> {
  const row = await readEntry(db, entryId);
  if (row.user_id !== actor.id && !isStaff(actor)) throw new NotFoundError('Waitlist entry', 'WAITLIST_ENTRY_NOT_FOUND');
  return row;
}

/** An entry as its owner sees it: position while waiting, the offer while it is live. */
export async function entryView(db: Knex, clock: Clock, row: EntryRow): Promise<WaitlistEntryView> {
  let status = row.status;
  let offer: WaitlistEntryView['offer'] = null;
  let position: number | null = null;
  if (status === 'waiting') {
    // Entries ahead of this one, plus one: 1 is next. Counting this entry itself would give 0 when a matching
    // run offered it between reading `row` and this count (a join while seats are free).
    const [{ n }] = (await db('waitlist_entries').where({ event_id: row.event_id, status: 'waiting' }).andWhere('id', '<', row.id).count({ n: '*' })) as [
      { n: number | string },
    ];
    position = Number(n) + 1;
  }
  if (status === 'offered' && row.offer_hold_id) {
    const hold = await db('holds').where({ id: row.offer_hold_id }).first('token', 'status', 'expires_at');
    const live = hold.status === 'active' && Number(hold.expires_at) > clock.now();
    if (live) {
      const seats = (await db('event_seats').where({ hold_id: row.offer_hold_id, status: 'held' }).orderBy('seat_id')) as SeatRow[];
      offer = { holdToken: hold.token, expiresAt: new Date(Number(hold.expires_at)).toISOString(), seats: seats.map((s): SeatState => toSeatState(s)) };
    } else {
      // Settled in the database by the next matching run; report what it will be.
      status = hold.status === 'active' ? 'lapsed' : settledStatus(hold.status);
    }
  }
  return {
    id: row.id,
    eventId: row.event_id,
    partySize: row.party_size,
    section: row.section,
    category: row.category,
    together: !!row.together,
    status,
    position,
    offer,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

/** The outbox event of an offer that ended (webhooks). */
export function offerEvent(
  type: 'waitlist.offer_accepted' | 'waitlist.offer_declined' | 'waitlist.offer_lapsed',
  e: Pick<EntryRow, 'id' | 'event_id' | 'user_id' | 'offer_hold_id'>,
  reason?: 'event_cancelled',
): DomainEvent {
  const data = { entryId: e.id, eventId: e.event_id, userId: e.user_id, holdId: e.offer_hold_id };
  // Only a lapse has a reason: an offer that ended with its event, not by running out.
  return type === 'waitlist.offer_lapsed' && reason ? { type, data: { ...data, reason } } : { type, data };
}

/** What an offer's entry becomes once its hold ended: booked → accepted, released → declined, else lapsed. */
export function settledStatus(holdStatus: string): WaitlistStatus {
  return holdStatus === 'booked' ? 'accepted' : holdStatus === 'released' ? 'declined' : 'lapsed';
}

/**
 * Ends every waiting or offered entry of an event (it was cancelled), inside the caller's transaction: they become
 * `cancelled`, so nobody stays "waiting" for an event that will never sell again and no ticker settles an offer
 * later. The offers' holds are released by the caller with the event's other holds. An open offer ends here, not
 * by the ticker, so its `waitlist.offer_lapsed` webhook event (reason `event_cancelled`) is written here too, in
 * the same transaction: a receiver that tracks offers learns that this one ended. Returns how many entries ended.
 */
export async function closeEntriesOfEvent(trx: Knex.Transaction, eventId: number, now: number): Promise<number> {
  // Locked on MySQL: the ticker settling one of these offers meanwhile would report it too.
  const read = trx('waitlist_entries').where({ event_id: eventId, status: 'offered' }).orderBy('id');
  if (isMysql(trx)) read.forUpdate();
  const offered = (await read.select('id', 'event_id', 'user_id', 'offer_hold_id')) as Pick<EntryRow, 'id' | 'event_id' | 'user_id' | 'offer_hold_id'>[];
  const ended = await trx('waitlist_entries')
    .where({ event_id: eventId })
    .whereIn('status', ACTIVE)
    .update({ status: 'cancelled', version: trx.raw('version + 1') });
  if (offered.length) await appendOutbox(trx, offered.map((e) => offerEvent('waitlist.offer_lapsed', e, 'event_cancelled')), now);
  return ended;
}
