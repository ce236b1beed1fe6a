import type { Knex } from 'knex';
import { isStaff } from '../shared/auth-user';
import { caseByKey } from '../db/case-by-key';
import { isMysql } from '../db/knex';
import { isDuplicateKey, RetryableConflict, type Trx } from '../db/transaction';
import { outboxChunks } from '../shared/outbox';
import { StatementRound, type Ref, type WriteResult } from '../db/statement-round';
import type { HoldExtras } from './hold-extras';
import type { BookingRow, SeatCommand } from './commands';
import type { BatchPlan, BatchState } from './batch-plan';
import { heldCounts, heldSeatsQuery, type EventRules, type HeldCountRow, type HoldRow } from './hold-rules';
import { holderLockQuery } from './holder-lock';
import { planEvents } from './plan-events';
import { isSeatFree, SEAT_COLUMNS, type SeatRow } from './seat-store';
import { casSeatsCaseQuery, casSeatsJoinedQuery, type IdValue } from './seat-cas';

/**
 * Reads what a batch of one event's commands needs, in as few statements as the batch allows, inside its
 * transaction. On MySQL the rows a batch may change are locked as they are read (holds, the buyers' holder rows
 * for the per-user limit, the seats it may win — always in that order, each in primary-key order), so a batch on
 * another node that wants the same rows waits at its read instead of failing its compare-and-set and retrying.
 * The compare-and-set in `writePlan` stays the authority either way. Lapsed holds the sweeper asked to expire
 * are read `SKIP LOCKED`: a hold another node's batch is expiring is simply not this batch's to expire.
 */
export async function loadBatchState(trx: Trx, eventId: number, commands: SeatCommand[], now: number, extras?: HoldExtras, ipCap = 0): Promise<BatchState> {
  const mysql = isMysql(trx);
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

  // The reads go out in two rounds (StatementRound: one round trip each on MySQL, statements run in the order
  // they were added, so the lock order below holds), and the batch waits for the event loop, busy with socket
  // writes in a rush, once per round, not once per statement.
  // Buyers asking for seats: their holder rows are locked (so two nodes cannot both pass one buyer's limit).
  // A buyer's holder is the buyer: adding to a hold that is not one's own is refused before the limit is looked at.
  const holderIds = [...new Set(commands.flatMap((c) => (c.kind === 'hold' && !isStaff(c.actor) ? [c.actor.id] : [])))].sort((a, b) => a - b);
  // Round 1: the event's rules, the holds the commands name (locked; only this event's, a batch never locks
  // another event's rows, docs/SCALING.md), lapsed holds to expire (SKIP LOCKED: one another node's batch is
  // expiring is not this batch's), the buyers' holder rows (locked, after the holds: the lock order is holds,
  // holders, seats; only rows of an event that exists are made), and the asked-for seats, read plainly: in a
  // rush most are taken, and locking them would make the other node's batches queue behind this one for nothing.
  const first = new StatementRound();
  // Whether the event has general-admission areas rides along: only then can its holds carry tickets.
  const eventRef = first.read<EventRules & { ga_areas: number | string }>(
    trx('events')
      .where({ id: eventId })
      .select(
        'id',
        'status',
        'hold_ttl_seconds',
        'max_hold_life_seconds',
        'max_seats_per_order',
        'max_seats_per_user',
        trx.raw('(select count(*) from event_ga_areas g where g.event_id = events.id) as ga_areas'),
      ),
  );
  const namedRef = tokens.size ? first.read<HoldRow>(lockIf(mysql, trx('holds').where('event_id', eventId).whereIn('token', [...tokens]).orderBy('id')).select()) : undefined;
  const lapsedRef = expireIds.size
    ? first.read<HoldRow>(lockIf(mysql, trx('holds').whereIn('id', [...expireIds]).where({ event_id: eventId, status: 'active' }).andWhere('expires_at', '<=', now).orderBy('id'), 'skip').select())
    : undefined;
  const holderLock = holderLockQuery(trx, eventId, holderIds);
  if (holderLock) first.write(holderLock);
  const askedRef = seatIds.size ? first.read<SeatRow>(seatsQuery(trx, eventId, [...seatIds], false)) : undefined;
  await first.run(trx);
  const rowsOf = <T>(round: StatementRound, ref: Ref<T[]> | undefined): T[] => (ref ? round.get(ref) : []);
  const eventRow = rowsOf(first, eventRef)[0];
  const { ga_areas: gaAreas, ...rules } = eventRow ?? { ga_areas: 0 };
  const event = eventRow ? (rules as EventRules) : undefined;

  const holdsByToken = new Map<string, HoldRow>();
  const holdsById = new Map<number, HoldRow>();
  for (const h of rowsOf(first, namedRef)) {
    holdsByToken.set(h.token, h);
    holdsById.set(h.id, h);
  }
  // A token of another event is read without a lock, only so its command can be answered HOLD_OTHER_EVENT.
  const elsewhere = [...tokens].filter((t) => !holdsByToken.has(t));
  if (elsewhere.length) {
    for (const h of (await trx('holds').whereIn('token', elsewhere).select()) as HoldRow[]) {
      holdsByToken.set(h.token, h);
      holdsById.set(h.id, h);
    }
  }
  for (const h of rowsOf(first, lapsedRef)) {
    holdsById.set(h.id, holdsById.get(h.id) ?? h);
    holdsByToken.set(h.token, holdsById.get(h.id)!);
  }
  const seats = new Map<number, SeatRow>();
  for (const s of rowsOf(first, askedRef)) seats.set(s.seat_id, s);

  // Round 2. The seats the locked buyers hold (counted now that their holder rows are locked), the asked-for
  // seats that look free (locked and read again: a seat read as taken is answered SEAT_UNAVAILABLE, true at the
  // instant of the read; one that may be won is decided on its locked row, and the compare-and-set re-checks it
  // anyway) and the seats of the named holds, locked; idempotency keys already used; GA lines of ending holds.
  // The per-IP cap: seats held live from each address that asks for seats (no lock: the cap is a fairness
  // bound, not an invariant; the per-user limit is the one two nodes must not both pass).
  const addresses = ipCap > 0 ? [...new Set(commands.flatMap((c) => (c.kind === 'hold' && c.clientIp && !isStaff(c.actor) ? [c.clientIp] : [])))] : [];
  const candidates = [...seats.values()].filter((s) => isSeatFree(s, now)).map((s) => s.seat_id);
  const ownHolds = [...holdsById.values()].filter((h) => h.event_id === eventId).map((h) => h.id);
  const books = commands.filter((c): c is Extract<SeatCommand, { kind: 'book' }> => c.kind === 'book');
  const owners = [...new Set(books.map((b) => holdsByToken.get(b.holdToken)?.user_id).filter((id): id is number => id !== undefined))];
  const ending = commands.filter((c) => c.kind === 'book' || c.kind === 'release').map((c) => holdsByToken.get((c as { holdToken: string }).holdToken)?.id);
  const endingIds = [...new Set([...ending, ...expireIds].filter((id): id is number => id !== undefined && holdsById.has(id)))];
  const second = new StatementRound();
  const byUserRef = holderIds.length && event ? second.read<HeldCountRow<number>>(heldSeatsQuery(trx, eventId, now, 'user_id', holderIds)) : undefined;
  const byIpRef = addresses.length && event ? second.read<HeldCountRow<string>>(heldSeatsQuery(trx, eventId, now, 'client_ip', addresses)) : undefined;
  const lockedRef = mysql && candidates.length ? second.read<SeatRow>(seatsQuery(trx, eventId, candidates, true)) : undefined;
  const holdSeatsRef = ownHolds.length
    ? second.read<SeatRow>(lockIf(mysql, trx('event_seats').where('event_id', eventId).whereIn('hold_id', ownHolds).where('status', 'held').orderBy('seat_id')).select(SEAT_COLUMNS))
    : undefined;
  const bookingsRef = owners.length
    ? second.read<BookingRow>(
        trx('bookings')
          .where('event_id', eventId)
          .whereIn('user_id', owners)
          .whereIn('idempotency_key', [...new Set(books.map((b) => b.idempotencyKey))])
          .select(),
      )
    : undefined;
  // General-admission lines are the extras' own reads, after the round (on the same connection, in order).
  const [, extraTotals] = await Promise.all([
    second.run(trx),
    extras && endingIds.length && Number(gaAreas) > 0 ? extras.totalsOf(trx, endingIds) : new Map<number, { count: number; totalCents: number }>(),
  ]);
  const heldByUser = heldCounts(holderIds, rowsOf(second, byUserRef));
  const heldByIp = heldCounts(addresses, rowsOf(second, byIpRef));
  for (const s of rowsOf(second, lockedRef)) seats.set(s.seat_id, s);
  for (const s of rowsOf(second, holdSeatsRef)) seats.set(s.seat_id, s);
  const previousBookings = new Map<string, BookingRow>();
  for (const b of rowsOf(second, bookingsRef)) previousBookings.set(`${b.user_id}:${b.idempotency_key}`, b);

  return { eventId, now, event, holdsByToken, holdsById, seats, heldByUser, ipCap, heldByIp, previousBookings, extras: extraTotals };
}

/** `FOR UPDATE` (or `FOR UPDATE SKIP LOCKED`) on MySQL; SQLite's one writer at a time already serialises batches. */
function lockIf<Q extends Knex.QueryBuilder>(mysql: boolean, q: Q, skip?: 'skip'): Q {
  if (mysql) {
    q.forUpdate();
    if (skip) q.skipLocked();
  }
  return q;
}

function seatsQuery(trx: Trx, eventId: number, ids: number[], lock: boolean): Knex.QueryBuilder {
  const q = trx('event_seats').where('event_id', eventId).whereIn('seat_id', ids).orderBy('seat_id');
  if (lock) q.forUpdate();
  return q.select(SEAT_COLUMNS);
}

/**
 * Writes a decided batch: the multi-row inserts of new holds and bookings, then ONE compare-and-set UPDATE for
 * every seat the batch moved (each guarded by the version it was read at; the changed-row count must match or the
 * whole transaction is retried), booking seats, one seat_changes row per transition, one compare-and-set UPDATE
 * for the holds that ended or were extended, and the outbox rows of the bookings and expiries.
 *
 * On MySQL all of it is ONE round trip (StatementRound): the writes name a new hold's or booking's id as an
 * expression over its insert's first id (`StatementRound.idOf`), so they need not wait for the inserts' answer.
 * In a rush every round trip waits for an event loop busy with socket writes, so a batch's time is mostly its
 * round trips. On SQLite the inserts run first and the writes carry the ids they got (in-process calls: nothing
 * to save).
 *
 * Both compare-and-sets carry the count they must change (StatementRound's `expect`): a short one fails the round
 * right there, and the transaction is retried whole. General-admission lines follow (their own statements, rare).
 * With `commit` the transaction ends here: on MySQL the round ends in COMMIT, one round trip fewer (unless
 * general-admission lines follow it), and the caller must not write anything after. New holds and bookings get
 * their real ids in `plan` (shared with the replies). Returns the highest seat_changes id (the batch's cursor).
 */
export async function writePlan(trx: Trx, eventId: number, plan: BatchPlan, now: number, extras?: HoldExtras, opts: { commit?: boolean } = {}): Promise<number> {
  const together = isMysql(trx);
  const writes = new StatementRound();
  const inserts = together ? writes : new StatementRound();
  const newHoldsRef = plan.newHolds.length ? inserts.insert('holds', plan.newHolds.map(({ id: _ref, ...row }) => row)) : undefined;
  const bookingsRef = plan.newBookings.length ? inserts.insert('bookings', plan.newBookings.map(({ id: _ref, ...row }) => row)) : undefined;
  /** Placeholder id → the real id (SQLite, after the inserts) or the SQL expression for it (MySQL, same round). */
  const ids = new Map<number, number>();
  const idExprs = new Map<number, Knex.Raw>();
  const place = (rows: { id: number }[], ref: Ref<WriteResult> | undefined, inserted: boolean) =>
    rows.forEach((row, i) => {
      if (!inserted) idExprs.set(row.id, writes.idOf(ref!, i, trx));
      else {
        const id = inserts.get(ref!).firstId + i;
        ids.set(row.id, id);
        row.id = id;
      }
    });
  if (together) {
    place(plan.newHolds, newHoldsRef, false);
    place(plan.newBookings, bookingsRef, false);
  } else {
    await runCatchingDuplicates(inserts, trx);
    place(plan.newHolds, newHoldsRef, true);
    place(plan.newBookings, bookingsRef, true);
  }
  const real = (ref: number | null): IdValue => (ref !== null && ref < 0 ? (idExprs.get(ref) ?? ids.get(ref)!) : ref);

  const touched = [...plan.touched.values()].sort((a, b) => a.seat_id - b.seat_id);
  const seats = touched.map((s) => ({ ...s, hold_id: real(s.hold_id), booking_id: real(s.booking_id) }));
  if (touched.length) {
    const cas = together ? casSeatsJoinedQuery(trx, eventId, seats) : casSeatsCaseQuery(trx, eventId, seats);
    writes.write(cas, { rows: touched.length, what: 'seat version moved' });
  }
  if (plan.bookingSeats.length) {
    writes.insert(
      'booking_seats',
      plan.bookingSeats.map((b) => ({ booking_id: real(b.bookingId), event_id: eventId, seat_id: b.seatId, price_cents: b.priceCents, active: true })),
    );
  }
  const changesRef = plan.transitions.length
    ? writes.insert(
        'seat_changes',
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
      )
    : undefined;
  const holds = [...plan.changedHolds.values()].sort((a, b) => a.id - b.id);
  if (holds.length) {
    const caseOf = (pick: (h: HoldRow) => Knex.RawBinding) => caseByKey(trx, 'id', holds, (h) => h.id, pick);
    writes.write(
      trx('holds')
        .whereIn('id', holds.map((h) => h.id))
        .where('status', 'active')
        .update({ status: caseOf((h) => h.status), expires_at: caseOf((h) => h.expires_at) }),
      { rows: holds.length, what: 'hold changed' },
    );
  }
  // Bookings confirmed and holds expired, for webhooks: in this same transaction, so none is lost or invented.
  for (const rows of outboxRows(trx, eventId, plan, now, ids, idExprs)) writes.insert('outbox', rows);

  const extrasFollow = plan.extrasClosed.length > 0 || plan.extrasBooked.length > 0;
  await runCatchingDuplicates(writes, trx, { commit: !!opts.commit && !extrasFollow });
  if (together) {
    place(plan.newHolds, newHoldsRef, true);
    place(plan.newBookings, bookingsRef, true);
  }
  for (const holdId of plan.extrasClosed) await extras?.closeHold(trx, holdId);
  for (const b of plan.extrasBooked) await extras?.bookHold(trx, b.holdId, ids.get(b.bookingId) ?? b.bookingId);
  return changesRef ? writes.get(changesRef).lastId : 0;
}

/**
 * The outbox rows of a batch's domain events. A booking whose id is still an expression (MySQL, same round) has
 * it set into its event's JSON by the database (`JSON_SET`), so the row carries the real id.
 */
function outboxRows(trx: Trx, eventId: number, plan: BatchPlan, now: number, ids: Map<number, number>, idExprs: Map<number, Knex.Raw>) {
  const events = planEvents(eventId, plan, (ref) => (ref !== null && ref < 0 ? (ids.get(ref) ?? ref) : ref));
  const chunks = outboxChunks(events, now);
  let k = 0;
  for (const row of chunks.flat()) {
    const e = events[k++]!;
    const expr = e.type === 'booking.confirmed' ? idExprs.get(e.data.bookingId) : undefined;
    if (expr) row.data = trx.raw(`JSON_SET(?, '$.bookingId', ?)`, [row.data as string, expr]);
  }
  return chunks;
}

/**
 * Runs a round of a batch's writes. A unique index that refuses a row means another node got there first: an
 * idempotency key used concurrently, or a seat booked meanwhile. The retry reads afresh and replays or refuses.
 */
async function runCatchingDuplicates(round: StatementRound, trx: Trx, opts: { commit?: boolean } = {}): Promise<void> {
  try {
    await round.run(trx, opts);
  } catch (err) {
    if (isDuplicateKey(err)) throw new RetryableConflict(`a unique key was taken concurrently: ${(err as Error).message}`);
    throw err;
  }
}
