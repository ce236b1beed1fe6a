import type { Knex } from 'knex';
import { isStaff } from '../shared/auth-user';
import { isDuplicateKey, RetryableConflict, type Trx } from '../db/transaction';
import type { HoldExtras } from './hold-extras';
import type { BookingRow, SeatCommand } from './commands';
import type { BatchPlan, BatchState } from './batch-plan';
import { heldSeatsBy, type EventRules, type HoldRow } from './hold-rules';
import { insertChanges, isSeatFree, SEAT_COLUMNS, type SeatRow } from './seat-store';

const isMysqlTrx = (trx: Trx) => trx.client.config.client === 'mysql2';

/**
 * Reads what a batch of one event's commands needs, in as few statements as the batch allows, inside its
 * transaction. On MySQL the rows a batch may change are locked as they are read (holds, the buyers' user rows
 * for the per-user limit, the seats it may win — always in that order, each in primary-key order), so a batch on
 * another node that wants the same rows waits at its read instead of failing its compare-and-set and retrying.
 * The compare-and-set in `writePlan` stays the authority either way. Lapsed holds the sweeper asked to expire
 * are read `SKIP LOCKED`: a hold another node's batch is expiring is simply not this batch's to expire.
 */
export async function loadBatchState(trx: Trx, eventId: number, commands: SeatCommand[], now: number, extras?: HoldExtras, ipCap = 0): Promise<BatchState> {
  const mysql = isMysqlTrx(trx);
  // Whether the event has general-admission areas rides along (no extra round trip): only then can its holds
  // carry tickets, so only then is there a ticket read for the holds that end.
  const eventRow = (await trx('events')
    .where({ id: eventId })
    .first(
      'id',
      'status',
      'hold_ttl_seconds',
      'max_hold_life_seconds',
      'max_seats_per_order',
      'max_seats_per_user',
      trx.raw('(select count(*) from event_ga_areas g where g.event_id = events.id) as ga_areas'),
    )) as (EventRules & { ga_areas: number | string }) | undefined;
  const { ga_areas: gaAreas, ...rules } = eventRow ?? { ga_areas: 0 };
  const event = eventRow ? (rules as EventRules) : undefined;

  const tokens = new Set<string>();
  const expireIds = new Set<number>();
  const seatIds = new Set<number>();
  for (const c of commands) {
    if (c.kind === 'expire') c.holdIds.forEach((id) => expireIds.add(id));
    else if (c.kind === 'hold') {
      c.seatIds.forEach((id) => seatIds.add(id));
      if (c.holdToken) tokens.add(c.holdToken);
    } else tokens.add(c.holdToken);
  }

  const holdsByToken = new Map<string, HoldRow>();
  const holdsById = new Map<number, HoldRow>();
  if (tokens.size) {
    const q = trx('holds').whereIn('token', [...tokens]).orderBy('id');
    if (mysql) q.forUpdate();
    for (const h of (await q.select()) as HoldRow[]) {
      holdsByToken.set(h.token, h);
      holdsById.set(h.id, h);
    }
  }
  if (expireIds.size) {
    const q = trx('holds').whereIn('id', [...expireIds]).where({ event_id: eventId, status: 'active' }).andWhere('expires_at', '<=', now).orderBy('id');
    if (mysql) q.forUpdate().skipLocked();
    for (const h of (await q.select()) as HoldRow[]) {
      holdsById.set(h.id, holdsById.get(h.id) ?? h);
      holdsByToken.set(h.token, holdsById.get(h.id)!);
    }
  }

  // Buyers asking for seats: lock their user rows (so two nodes cannot both pass one buyer's limit) and count.
  const holders = new Set<number>();
  for (const c of commands) {
    if (c.kind !== 'hold' || isStaff(c.actor)) continue;
    holders.add(c.holdToken ? (holdsByToken.get(c.holdToken)?.user_id ?? c.actor.id) : c.actor.id);
  }
  let heldByUser = new Map<number, number>();
  if (holders.size && event) {
    const ids = [...holders].sort((a, b) => a - b);
    if (mysql) await trx('users').whereIn('id', ids).orderBy('id').forUpdate().select('id');
    heldByUser = await heldSeatsBy(trx, eventId, now, 'user_id', ids);
  }

  // The per-IP cap: seats held live from each address that asks for seats (no lock: the cap is a fairness
  // bound, not an invariant; the per-user limit above is the one two nodes must not both pass).
  const addresses = ipCap > 0 ? [...new Set(commands.flatMap((c) => (c.kind === 'hold' && c.clientIp && !isStaff(c.actor) ? [c.clientIp] : [])))] : [];
  const heldByIp = addresses.length && event ? await heldSeatsBy(trx, eventId, now, 'client_ip', addresses) : new Map<string, number>();

  const seats = new Map<number, SeatRow>();
  const ownHolds = [...holdsById.values()].filter((h) => h.event_id === eventId).map((h) => h.id);
  if (seatIds.size) {
    // Asked-for seats are read plainly first, and only those that look free are then locked (and read again):
    // in a rush most asked-for seats are taken, and locking them would make the other node's batches queue behind
    // this one for nothing. A seat read as taken is answered SEAT_UNAVAILABLE, true at the instant of the read;
    // a seat that may be won is decided on its locked row, and the compare-and-set re-checks it anyway.
    const read = (ids: number[], lock: boolean) => {
      const q = trx('event_seats').where('event_id', eventId).whereIn('seat_id', ids).orderBy('seat_id');
      if (lock) q.forUpdate();
      return q.select(SEAT_COLUMNS) as Promise<SeatRow[]>;
    };
    for (const s of await read([...seatIds], false)) seats.set(s.seat_id, s);
    const candidates = [...seats.values()].filter((s) => isSeatFree(s, now)).map((s) => s.seat_id);
    if (mysql && candidates.length) for (const s of await read(candidates, true)) seats.set(s.seat_id, s);
  }
  if (ownHolds.length) {
    const q = trx('event_seats').where('event_id', eventId).whereIn('hold_id', ownHolds).where('status', 'held').orderBy('seat_id');
    if (mysql) q.forUpdate();
    for (const s of (await q.select(SEAT_COLUMNS)) as SeatRow[]) seats.set(s.seat_id, s);
  }

  const previousBookings = new Map<string, BookingRow>();
  const books = commands.filter((c): c is Extract<SeatCommand, { kind: 'book' }> => c.kind === 'book');
  if (books.length) {
    const owners = [...new Set(books.map((b) => holdsByToken.get(b.holdToken)?.user_id).filter((id): id is number => id !== undefined))];
    if (owners.length) {
      const rows = (await trx('bookings')
        .whereIn('user_id', owners)
        .whereIn('idempotency_key', [...new Set(books.map((b) => b.idempotencyKey))])
        .select()) as BookingRow[];
      for (const b of rows) previousBookings.set(`${b.user_id}:${b.idempotency_key}`, b);
    }
  }

  const ending = commands.filter((c) => c.kind === 'book' || c.kind === 'release').map((c) => holdsByToken.get((c as { holdToken: string }).holdToken)?.id);
  const endingIds = [...new Set([...ending, ...expireIds].filter((id): id is number => id !== undefined && holdsById.has(id)))];
  const extraTotals = extras && endingIds.length && Number(gaAreas) > 0 ? await extras.totalsOf(trx, endingIds) : new Map<number, { count: number; totalCents: number }>();

  return { eventId, now, event, holdsByToken, holdsById, seats, heldByUser, ipCap, heldByIp, previousBookings, extras: extraTotals };
}

/** The id of the first row of a multi-row insert: MySQL reports the first (consecutive in one statement), SQLite the last. */
function firstInsertId(trx: Trx, reported: number, rows: number): number {
  return isMysqlTrx(trx) ? reported : reported - rows + 1;
}

/**
 * Writes a decided batch: multi-row inserts for holds and bookings, ONE compare-and-set UPDATE for every seat
 * the batch moved (each guarded by the version it was read at; the changed-row count must match or the whole
 * transaction is retried), booking seats, one seat_changes row per transition, one compare-and-set UPDATE for
 * the holds that ended or were extended. Returns the highest seat_changes id (the batch's cursor).
 */
export async function writePlan(trx: Trx, eventId: number, plan: BatchPlan, now: number, extras?: HoldExtras): Promise<number> {
  const ids = new Map<number, number>();
  if (plan.newHolds.length) {
    const rows = plan.newHolds.map(({ id: _ref, ...row }) => row);
    const [reported] = await trx('holds').insert(rows);
    const first = firstInsertId(trx, Number(reported), rows.length);
    plan.newHolds.forEach((h, i) => {
      ids.set(h.id, first + i);
      h.id = first + i;
    });
  }
  const real = (ref: number | null) => (ref !== null && ref < 0 ? ids.get(ref)! : ref);
  if (plan.newBookings.length) {
    const rows = plan.newBookings.map(({ id: _ref, ...row }) => row);
    let reported: number;
    try {
      [reported] = (await trx('bookings').insert(rows)) as number[];
    } catch (err) {
      // Another node booked with one of these idempotency keys meanwhile: the retry reads it and replays it.
      if (isDuplicateKey(err)) throw new RetryableConflict('idempotency key used concurrently');
      throw err;
    }
    const first = firstInsertId(trx, Number(reported), rows.length);
    plan.newBookings.forEach((b, i) => {
      ids.set(b.id, first + i);
      b.id = first + i;
    });
  }

  const touched = [...plan.touched.values()].sort((a, b) => a.seat_id - b.seat_id);
  if (touched.length) {
    const caseOf = (pick: (s: (typeof touched)[number]) => Knex.RawBinding) => {
      const bindings: Knex.RawBinding[] = [];
      for (const s of touched) bindings.push(s.seat_id, pick(s));
      return trx.raw(`CASE seat_id ${touched.map(() => 'WHEN ? THEN ?').join(' ')} END`, bindings);
    };
    const changed = await trx('event_seats')
      .where('event_id', eventId)
      .andWhere((q) => {
        for (const s of touched) q.orWhere((w) => w.where('seat_id', s.seat_id).andWhere('version', s.readVersion));
      })
      .update({
        status: caseOf((s) => s.status),
        version: caseOf((s) => s.version),
        hold_id: caseOf((s) => real(s.hold_id)),
        hold_expires_at: caseOf((s) => s.hold_expires_at),
        booking_id: caseOf((s) => real(s.booking_id)),
      });
    if (changed !== touched.length) throw new RetryableConflict(`seat version moved: changed ${changed} of ${touched.length}`);
  }
  if (plan.bookingSeats.length) {
    await trx('booking_seats').insert(plan.bookingSeats.map((b) => ({ booking_id: real(b.bookingId), event_id: eventId, seat_id: b.seatId, price_cents: b.priceCents, active: true })));
  }
  let cursor = 0;
  if (plan.transitions.length) {
    cursor = await insertChanges(
      trx,
      plan.transitions.map((t) => ({
        event_id: eventId,
        seat_id: t.seatId,
        from_status: t.from,
        to_status: t.to,
        version: t.version,
        actor_id: t.actorId,
        reason: t.reason,
        hold_id: real(t.holdId),
        booking_id: real(t.bookingId),
        hold_expires_at: t.holdExpiresAt,
        created_at: now,
      })),
    );
  }
  const holds = [...plan.changedHolds.values()].sort((a, b) => a.id - b.id);
  if (holds.length) {
    const caseOf = (pick: (h: HoldRow) => Knex.RawBinding) => {
      const bindings: Knex.RawBinding[] = [];
      for (const h of holds) bindings.push(h.id, pick(h));
      return trx.raw(`CASE id ${holds.map(() => 'WHEN ? THEN ?').join(' ')} END`, bindings);
    };
    const changed = await trx('holds')
      .whereIn('id', holds.map((h) => h.id))
      .where('status', 'active')
      .update({ status: caseOf((h) => h.status), expires_at: caseOf((h) => h.expires_at) });
    if (changed !== holds.length) throw new RetryableConflict(`hold changed: ${changed} of ${holds.length}`);
  }
  for (const holdId of plan.extrasClosed) await extras?.closeHold(trx, holdId);
  for (const b of plan.extrasBooked) await extras?.bookHold(trx, b.holdId, real(b.bookingId)!);
  return cursor;
}
