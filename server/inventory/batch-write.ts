import type { Knex } from 'knex';
import { caseByKey } from '../db/case-by-key';
import { isMysql } from '../db/knex';
import { fromVia } from '../db/index-hint';
import { isDuplicateKey, RetryableConflict, type Trx } from '../db/transaction';
import { outboxChunks } from '../shared/outbox';
import { StatementRound, type Ref, type WriteResult } from '../db/statement-round';
import type { HoldExtras } from './hold-extras';
import type { BatchPlan } from './batch-plan';
import type { HoldRow } from './hold-rules';
import { planEvents } from './plan-events';
import { casSeatsCaseQuery, casSeatsJoinedQuery, type IdValue } from './seat-cas';

/**
 * Writes a decided batch: the multi-row inserts of new holds and bookings, then ONE compare-and-set UPDATE for
 * every seat the batch moved (each guarded by the version it was read at; the changed-row count must match or the
 * whole transaction is retried), booking seats, one seat_changes row per transition, one compare-and-set UPDATE
 * for the holds that ended or were extended, and the outbox rows of the bookings and expiries.
 *
 * On MySQL all of it is ONE round trip (StatementRound): the writes name a new hold's or booking's id as an
 * expression over its insert's first id (`StatementRound.idOf`), so they need not wait for the inserts' answer.
 * Every round trip costs the database link's latency and a turn of the node's event loop (batch-read.ts). On
 * SQLite the inserts run first and the writes carry the ids they got (in-process calls: nothing to save).
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
  /** Placeholder id → the real id, once the inserts have run; on MySQL before that, the SQL expression for it. */
  const ids = new Map<number, number>();
  const idExprs = new Map<number, Knex.Raw>();
  const expressIds = (rows: { id: number }[], ref: Ref<WriteResult> | undefined) => rows.forEach((row, i) => idExprs.set(row.id, writes.idOf(ref!, i, trx)));
  const assignIds = (rows: { id: number }[], ref: Ref<WriteResult> | undefined) =>
    rows.forEach((row, i) => {
      const id = inserts.get(ref!).firstId + i;
      ids.set(row.id, id);
      row.id = id;
    });
  if (together) {
    expressIds(plan.newHolds, newHoldsRef);
    expressIds(plan.newBookings, bookingsRef);
  } else {
    await runCatchingDuplicates(inserts, trx);
    assignIds(plan.newHolds, newHoldsRef);
    assignIds(plan.newBookings, bookingsRef);
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
      // By primary key on SQLite too (index-hint.ts): its own plan read every active hold through the status index.
      trx
        .from(fromVia(trx, 'holds', 'PRIMARY'))
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
    assignIds(plan.newHolds, newHoldsRef);
    assignIds(plan.newBookings, bookingsRef);
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
