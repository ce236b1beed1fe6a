import { randomUUID } from 'node:crypto';
import { isMysql, type Db } from '../db/knex';
import { withTransaction, type RetryOptions } from '../db/transaction';

/** An outbox row as stored. */
interface OutboxRow {
  id: number;
  type: string;
}

/** Deliveries inserted per statement. */
const CHUNK = 200;

/**
 * Fan-out: turns up to `limit` outbox rows not yet dispatched into one pending delivery per enabled endpoint
 * subscribed to their type, and marks them dispatched, in one transaction. On MySQL the rows are claimed
 * `FOR UPDATE SKIP LOCKED`, so nodes fanning out at once take disjoint rows instead of queueing; the unique
 * (outbox_id, endpoint_id) index would refuse a second fan-out anyway. SQLite has one writer: a plain
 * transaction is enough. Returns the number of outbox rows dispatched.
 */
export async function fanOut(db: Db, now: number, limit: number, retry?: RetryOptions): Promise<number> {
  return withTransaction(
    db,
    async (trx) => {
      const q = trx('outbox').whereNull('dispatched_at').orderBy('id').limit(limit);
      if (isMysql(db)) q.forUpdate().skipLocked();
      const rows = (await q.select('id', 'type')) as OutboxRow[];
      if (rows.length === 0) return 0;
      const endpoints = (await trx('webhook_endpoints').where('enabled', true).select('id', 'event_types')) as { id: number; event_types: string }[];
      const subscribed = endpoints.map((e) => ({ id: e.id, types: new Set(JSON.parse(e.event_types) as string[]) }));
      const deliveries = rows.flatMap((r) =>
        subscribed
          .filter((e) => e.types.has(r.type))
          .map((e) => ({ uid: randomUUID(), outbox_id: r.id, endpoint_id: e.id, status: 'pending', attempts: 0, next_attempt_at: now, retry_from: now, created_at: now, updated_at: now })),
      );
      for (let i = 0; i < deliveries.length; i += CHUNK) await trx('webhook_deliveries').insert(deliveries.slice(i, i + CHUNK));
      await trx('outbox').whereIn('id', rows.map((r) => r.id)).whereNull('dispatched_at').update({ dispatched_at: now });
      return rows.length;
    },
    retry,
  );
}

/** Rows and deliveries kept this long after they are finished (the delivery log's reach). */
export const RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * Deletes up to `limit` outbox rows dispatched more than RETENTION_MS ago whose deliveries are all finished
 * (their deliveries go with them), so the outbox does not grow without bound. Returns the rows deleted.
 */
export async function pruneOutbox(db: Db, now: number, limit = 500): Promise<number> {
  const ids = (await db('outbox')
    .where('dispatched_at', '<', now - RETENTION_MS)
    .whereNotExists(db('webhook_deliveries as d').whereRaw('d.outbox_id = outbox.id').andWhere('d.status', 'pending'))
    .orderBy('id')
    .limit(limit)
    .pluck('id')) as number[];
  if (ids.length === 0) return 0;
  return db('outbox').whereIn('id', ids).delete();
}
