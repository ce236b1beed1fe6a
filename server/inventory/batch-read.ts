import type { Knex } from 'knex';
import { isStaff } from '../shared/auth-user';
import { isMysql } from '../db/knex';
import { fromVia, tableVia } from '../db/index-hint';
import type { Trx } from '../db/transaction';
import { StatementRound, type Ref } from '../db/statement-round';
import type { HoldExtras } from './hold-extras';
import type { BookingRow, SeatCommand } from './commands';
import type { BatchState } from './batch-plan';
import { heldCounts, heldSeatsQuery, type EventRules, type HeldCountRow, type HoldRow } from './hold-rules';
import { holderLockQuery } from './holder-lock';
import { SEAT_COLUMNS, SEAT_HOLD_INDEX, type SeatRow } from './seat-store';

/** The unique index on holds' tokens: locking reads of named holds go through it (see loadBatchState). */
const TOKEN_INDEX = 'holds_token_unique';

/**
 * Reads what a batch of one event's commands needs, inside its transaction, in ONE round trip for a batch of holds,
 * bookings, releases and extends (StatementRound: the statements go together and run in the order added).
 *
 * Every round trip costs the database link's latency and a turn of the node's event loop, and one event has one
 * batch in flight per node, so a batch's round trips bound a hot event (load/README.md: with a 1 ms link, batches
 * of 8 holds and releases took 37% less time with one read round and one write round than with four rounds).
 * Every statement below is written from what the commands name, not from an earlier answer, so all go in one
 * round. A second round follows only for what needs the first's answers: in a batch that expires lapsed holds
 * (the sweeper's), the seats of those this batch got and then the asked-for seats; general-admission lines.
 *
 * On MySQL the rows a batch may change are locked as they are read, always in this order, so two batches queue
 * instead of deadlocking: the holds the commands name, the buyers' holder rows (the per-user limit), the seats of
 * the named holds, the seats of the lapsed holds, then the asked-for seats that are free. A batch on another node
 * that wants the same rows waits at its read instead of failing its compare-and-set and retrying; the
 * compare-and-set in `writePlan` stays the authority either way. Lapsed holds are read `SKIP LOCKED`: one another
 * node's batch is expiring is not this batch's to expire.
 */
export async function loadBatchState(
  trx: Trx,
  eventId: number,
  commands: SeatCommand[],
  now: number,
  extras?: HoldExtras,
  ipCap = 0,
  freedSeatsWanted?: FreedSeatsWanted,
): Promise<BatchState> {
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
  // A buyer's holder is the buyer: adding to a hold that is not one's own is refused before the limit is looked at.
  const holderIds = [...new Set(commands.flatMap((c) => (c.kind === 'hold' && !isStaff(c.actor) ? [c.actor.id] : [])))].sort((a, b) => a - b);
  // The per-IP cap: seats held live from each address that asks for seats (no lock: the cap is a fairness bound,
  // not an invariant; the per-user limit is the one two nodes must not both pass).
  const addresses = ipCap > 0 ? [...new Set(commands.flatMap((c) => (c.kind === 'hold' && c.clientIp && !isStaff(c.actor) ? [c.clientIp] : [])))] : [];
  const books = commands.filter((c): c is Extract<SeatCommand, { kind: 'book' }> => c.kind === 'book');

  const first = new StatementRound();
  // The event's rules; whether it has general-admission areas rides along (only then can its holds carry tickets),
  // and, in a batch that may free seats, whether anyone wants them (the waitlist's read, without a round trip).
  const mayFree = commands.some((c) => c.kind === 'release' || c.kind === 'expire');
  const eventRef = first.read<EventRules & { ga_areas: number | string; freed_wanted?: number | string | boolean }>(
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
        ...(freedSeatsWanted && mayFree ? [freedSeatsWanted(trx).wrap('(', ') as freed_wanted')] : []),
      ),
  );
  // The holds the commands name (locked; only this event's: a batch never locks another event's rows,
  // docs/SCALING.md), and lapsed holds to expire.
  // By token on MySQL: for a long list of tokens in a small table the optimizer scans the whole table instead, and
  // a locking scan waits for every hold another batch has locked (deadlocks between two nodes' batches of bookings).
  const namedRef = tokens.size ? first.read<HoldRow>(lockIf(mysql, holdsThrough(trx, TOKEN_INDEX).where('event_id', eventId).whereIn('token', [...tokens]).orderBy('id')).select()) : undefined;
  // By primary key on MySQL: through the (status, expires_at) index, which the optimizer picks when few holds are
  // active, the read locked that index's entries of other lapsed holds (of any event) that it did not return, and
  // another node's sweep expiring one of those then waited for this batch (deadlocks between two nodes' sweeps;
  // tests/integration/batch-hold-locks.test.ts).
  const lapsedRef = expireIds.size
    ? first.read<HoldRow>(lockIf(mysql, holdsThrough(trx, 'PRIMARY').whereIn('id', [...expireIds]).where({ event_id: eventId, status: 'active' }).andWhere('expires_at', '<=', now).orderBy('id'), 'skip').select())
    : undefined;
  // MySQL: which seats those holds are in, not locked (read through the hold_id index, after the holds are locked, so
  // none can join them), for round 2 to lock by primary key in seat order (holdSeatsByIdQuery).
  const lapsedSeatIdsRef = mysql && expireIds.size ? first.read<{ seat_id: number }>(trx.from(fromVia(trx, 'event_seats', SEAT_HOLD_INDEX, { mysql: true })).where('event_id', eventId).whereIn('hold_id', [...expireIds]).select('seat_id')) : undefined;
  // The buyers' holder rows, locked (only rows of an event that exists are made), then the seats they hold,
  // counted behind the lock, so two nodes cannot both pass one buyer's limit.
  const holderLock = holderLockQuery(trx, eventId, holderIds);
  if (holderLock) first.write(holderLock);
  const byUserRef = holderIds.length ? first.read<HeldCountRow<number>>(heldSeatsQuery(trx, eventId, now, 'user_id', holderIds)) : undefined;
  const byIpRef = addresses.length ? first.read<HeldCountRow<string>>(heldSeatsQuery(trx, eventId, now, 'client_ip', addresses)) : undefined;
  // Every seat of the named holds, locked. Before the asked-for seats: this read goes through the hold_id index,
  // whose stale entries (a seat a hold let go, until InnoDB purges them) make it lock seats out of seat order, and
  // after the asked-for seats that let two batches each wait for a seat the other had locked as free (a deadlock,
  // 1 in 2 of 3 flash sales when it came second).
  const holdSeatsRef = tokens.size ? first.read<SeatRow>(namedHoldSeatsQuery(trx, eventId, [...tokens], mysql)) : undefined;
  // The asked-for seats: those that are free are locked (a taken one is neither locked nor waited for), then all of
  // them are read as they are now. A seat read as taken is answered SEAT_UNAVAILABLE, true at the instant of the
  // read; one that may be won is decided on its locked row. In a batch that expires lapsed holds, after their
  // seats (round 2): which lapsed holds are this batch's is known only from round 1, and a lapsed hold's seat is
  // free to a hold, so locking free seats first let two batches each wait for the other (a deadlock).
  const asked = (round: StatementRound) => {
    if (mysql && seatIds.size) round.write(freeSeatsLock(trx, eventId, [...seatIds], now));
    return seatIds.size ? round.read<SeatRow>(seatsQuery(trx, eventId, [...seatIds])) : undefined;
  };
  const askedFirst = expireIds.size ? undefined : asked(first);
  // Bookings already made with the batch's idempotency keys by the owners of the holds being booked (a replay).
  const bookingsRef = books.length ? first.read<BookingRow>(previousBookingsQuery(trx, eventId, books)) : undefined;
  await first.run(trx);

  const rowsOf = <T>(round: StatementRound, ref: Ref<T[]> | undefined): T[] => (ref ? round.get(ref) : []);
  const eventRow = rowsOf(first, eventRef)[0];
  const { ga_areas: gaAreas, freed_wanted: wanted, ...rules } = eventRow ?? { ga_areas: 0 };
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
  const lapsed = rowsOf(first, lapsedRef);
  for (const h of lapsed) {
    holdsById.set(h.id, holdsById.get(h.id) ?? h);
    holdsByToken.set(h.token, holdsById.get(h.id)!);
  }
  const seats = new Map<number, SeatRow>();
  for (const s of rowsOf(first, holdSeatsRef)) seats.set(s.seat_id, s);
  const previousBookings = new Map<string, BookingRow>();
  for (const b of rowsOf(first, bookingsRef)) previousBookings.set(`${b.user_id}:${b.idempotency_key}`, b);

  // Round 2, only when needed: in a batch that expires lapsed holds, the seats of those this batch got (locked), then
  // the asked-for seats; and the general-admission lines of the holds that end (the extras' own reads, on the same
  // connection, in order).
  const ending = commands.filter((c) => c.kind === 'book' || c.kind === 'release').map((c) => holdsByToken.get((c as { holdToken: string }).holdToken)?.id);
  const endingIds = [...new Set([...ending, ...expireIds].filter((id): id is number => id !== undefined && holdsById.has(id)))];
  const second = new StatementRound();
  const lapsedSeatIds = mysql ? rowsOf(first, lapsedSeatIdsRef).map((r) => r.seat_id) : undefined;
  const lapsedSeatsRef = lapsed.length && lapsedSeatIds?.length !== 0 ? second.read<SeatRow>(holdSeatsByIdQuery(trx, eventId, lapsed.map((h) => h.id), lapsedSeatIds)) : undefined;
  const askedSecond = expireIds.size ? asked(second) : undefined;
  const [, extraTotals] = await Promise.all([
    lapsedSeatsRef || askedSecond ? second.run(trx) : undefined,
    extras && endingIds.length && Number(gaAreas) > 0 ? extras.totalsOf(trx, endingIds) : new Map<number, { count: number; totalCents: number }>(),
  ]);
  for (const s of rowsOf(second, lapsedSeatsRef)) seats.set(s.seat_id, s);
  // A seat both asked for and in a named or lapsed hold: its row as read last (the plain read after every lock).
  for (const s of askedFirst ? rowsOf(first, askedFirst) : rowsOf(second, askedSecond)) seats.set(s.seat_id, s);

  const heldByUser = heldCounts(holderIds, rowsOf(first, byUserRef));
  const heldByIp = heldCounts(addresses, rowsOf(first, byIpRef));
  const freedWanted = !freedSeatsWanted || !mayFree || Number(wanted) === 1;
  return { eventId, now, event, holdsByToken, holdsById, seats, heldByUser, ipCap, heldByIp, previousBookings, extras: extraTotals, freedWanted };
}

/**
 * Whether anyone wants seats of the event a batch frees, as one SQL expression (1 or 0) over the `events` row of the
 * batch's rules read: the waitlist's `exists(…)`. Read in the batch's first round, it spares a round trip after
 * every release and expiry. An entry that joins between that read and the batch's COMMIT is not seen by it; its
 * own matching pass, or the matcher's ticker (once a second), offers it the seats.
 */
export type FreedSeatsWanted = (db: Knex) => Knex.Raw;

/**
 * `holds`, read through `index` on both engines (index-hint.ts). MySQL: the optimizer's own choice locked holds
 * the batch never named. SQLite: its own choice read every hold of the event.
 */
function holdsThrough(trx: Trx, index: string): Knex.QueryBuilder {
  return trx.from(fromVia(trx, 'holds', index, { mysql: true }));
}

/** `FOR UPDATE` (or `FOR UPDATE SKIP LOCKED`) on MySQL; SQLite's one writer at a time already serialises batches. */
function lockIf<Q extends Knex.QueryBuilder>(mysql: boolean, q: Q, skip?: 'skip'): Q {
  if (mysql) {
    q.forUpdate();
    if (skip) q.skipLocked();
  }
  return q;
}

function seatsQuery(trx: Trx, eventId: number, ids: number[]): Knex.QueryBuilder {
  return trx('event_seats').where('event_id', eventId).whereIn('seat_id', ids).orderBy('seat_id').select(SEAT_COLUMNS);
}

/** Asked-for seats closer than this share one key range in `freeSeatsLock` (the seats between are scanned, not locked). */
const RANGE_GAP = 32;

/**
 * MySQL: locks those of `ids` that are free (available, or held by a hold that has lapsed: `isSeatFree`), without
 * ever waiting for a taken seat. A statement of its own, whose answer nobody reads: the plain read behind it gives
 * the seats as they are.
 *
 * It is an UPDATE that changes nothing (`version = version`), for InnoDB's semi-consistent read: under READ
 * COMMITTED, when an UPDATE meets a row another transaction has locked, InnoDB checks the row's last committed
 * version against the condition, and waits for the lock only if that version matches. So a seat being won by
 * another node's batch (free when last committed) is waited for, and then seen as it ends; a taken seat whose hold
 * another node is booking or releasing is passed over, as a plain read would. A `SELECT … FOR UPDATE` waits for
 * every locked row it scans, and two batches each waiting for a seat the other's hold was booking deadlocked.
 *
 * InnoDB reads semi-consistently only on a range scan of the clustered index, never on a lookup of one unique key,
 * so the seats go in as primary-key ranges (`seat_id BETWEEN lo AND hi`, runs of near seats, each at least two keys
 * wide), `FORCE INDEX (PRIMARY)`, with the exact seats as a filter the optimizer cannot turn into lookups
 * (`seat_id + 0 IN (…)`). `tests/integration/free-seat-lock.test.ts` shows both waits.
 */
function freeSeatsLock(trx: Trx, eventId: number, ids: number[], now: number): Knex.Raw {
  const sorted = [...ids].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const id of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && id - last[1] <= RANGE_GAP) last[1] = id;
    else ranges.push([id, id]);
  }
  return trx.raw(
    `UPDATE event_seats FORCE INDEX (PRIMARY) SET version = version
     WHERE event_id = ? AND (${ranges.map(() => 'seat_id BETWEEN ? AND ?').join(' OR ')}) AND seat_id + 0 IN (${sorted.map(() => '?').join(', ')})
       AND (status = 'available' OR (status = 'held' AND hold_expires_at <= ?))`,
    [eventId, ...ranges.flatMap(([lo, hi]) => [lo, hi + 1]), ...sorted, now],
  );
}

/**
 * Every held seat of the holds of this event named by `tokens`, locked on MySQL. The holds are read first
 * (STRAIGHT_JOIN; SQLite: CROSS JOIN, which it never reorders), by their unique token (forced: see the named
 * holds' read), and their seats through the `hold_id` index (forced on SQLite, which otherwise read every seat
 * of the event for one hold): the seats of other holds are never scanned, so never waited for.
 */
function namedHoldSeatsQuery(trx: Trx, eventId: number, tokens: string[], mysql: boolean): Knex.QueryBuilder {
  const holds = tableVia(trx, 'holds', TOKEN_INDEX, { alias: 'h', mysql: true });
  const seats = tableVia(trx, 'event_seats', SEAT_HOLD_INDEX, { alias: 'es' });
  const q = trx
    .from(trx.raw(`${holds} ${mysql ? 'STRAIGHT_JOIN' : 'CROSS JOIN'} ${seats} ON es.event_id = h.event_id AND es.hold_id = h.id`))
    .where('h.event_id', eventId)
    .whereIn('h.token', tokens)
    .where('es.status', 'held')
    .orderBy('es.seat_id')
    .select(SEAT_COLUMNS.map((c) => `es.${c}`));
  return lockIf(mysql, q);
}

/**
 * Every held seat of the holds `holdIds` of this event.
 *
 * MySQL (`seatIds`: the seats round 1 read those holds in): locked by primary key, so in seat order, the order in
 * which a hold's free-seat lock takes them too (a lapsed hold's seat is free to a hold). MariaDB's own plan during a
 * flash sale was a range of the event's primary key, all 1,000 seats locked one by one, so a sweep waited for every
 * seat another batch had locked; through the hold_id index the seats would be locked in hold order, and a sweep and
 * a hold each waiting for a lapsed seat the other had locked would deadlock. SQLite (no locks): through the hold_id
 * index (index-hint.ts; its own plan read every seat of the event).
 */
function holdSeatsByIdQuery(trx: Trx, eventId: number, holdIds: number[], seatIds: number[] | undefined): Knex.QueryBuilder {
  if (!seatIds) return trx.from(fromVia(trx, 'event_seats', SEAT_HOLD_INDEX)).where('event_id', eventId).whereIn('hold_id', holdIds).where('status', 'held').orderBy('seat_id').select(SEAT_COLUMNS);
  const sorted = [...new Set(seatIds)].sort((a, b) => a - b);
  return lockIf(true, trx.from(fromVia(trx, 'event_seats', 'PRIMARY', { mysql: true })).where('event_id', eventId).whereIn('seat_id', sorted).whereIn('hold_id', holdIds).where('status', 'held').orderBy('seat_id')).select(SEAT_COLUMNS);
}

/**
 * Bookings of this event made with the idempotency keys of the batch's bookings by the owners of the holds they
 * book (`decide` looks a replay up by the hold's owner and the key). Not locked: a key used concurrently meets the
 * unique index at the insert, and the batch is retried.
 */
function previousBookingsQuery(trx: Trx, eventId: number, books: Extract<SeatCommand, { kind: 'book' }>[]): Knex.QueryBuilder {
  return trx('bookings')
    .where('event_id', eventId)
    .whereIn('idempotency_key', [...new Set(books.map((b) => b.idempotencyKey))])
    .whereIn(
      'user_id',
      trx('holds')
        .whereIn('token', [...new Set(books.map((b) => b.holdToken))])
        .select('user_id'),
    )
    .select();
}
