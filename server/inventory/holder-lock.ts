import type { Knex } from 'knex';
import { isMysql } from '../db/knex';
import type { Trx } from '../db/transaction';

/**
 * Serialises one buyer's seat requests for one event: locks the buyer's `event_holders` row (creating it on
 * first use) until the transaction ends, so two concurrent requests of one buyer, on one node or two, cannot
 * both pass the per-user seat limit or the "one waitlist entry" check.
 *
 * The lock lives in the event's own rows (`event_id` leads the key), not on `users`: every seat transaction
 * stays within one event, the sharding key (docs/SCALING.md), and one buyer's requests for two different
 * events never wait for each other.
 *
 * MySQL only: `INSERT … ON DUPLICATE KEY UPDATE` takes an exclusive record lock on the row whether it inserts
 * it or finds it (a plain `INSERT IGNORE` would take a shared lock on a duplicate, and two transactions
 * upgrading shared locks deadlock). Buyers are locked in id order so two batches with overlapping buyers queue
 * instead of deadlocking. SQLite has one writer at a time, which already serialises everything.
 *
 * Rows are only made for an event that exists (the insert selects from `events`), so requests for made-up event
 * ids, which the batch answers EVENT_NOT_FOUND, leave nothing behind. Under READ COMMITTED that read of `events`
 * is a plain consistent read and locks nothing.
 */
export async function lockHolders(trx: Trx, eventId: number, userIds: Iterable<number>): Promise<void> {
  const q = holderLockQuery(trx, eventId, userIds);
  if (q) await q;
}

/** The statement `lockHolders` runs, for a caller that sends it in a round of its own (undefined: nothing to lock). */
export function holderLockQuery(trx: Trx, eventId: number, userIds: Iterable<number>): Knex.Raw | undefined {
  if (!isMysql(trx)) return undefined;
  const ids = [...new Set(userIds)].sort((a, b) => a - b);
  if (!ids.length) return undefined;
  return trx.raw(
    `INSERT INTO event_holders (event_id, user_id)
     SELECT e.id, u.id FROM events e JOIN (${ids.map((_, i) => (i === 0 ? 'SELECT ? AS id' : 'SELECT ?')).join(' UNION ALL ')}) u WHERE e.id = ?
     ORDER BY u.id
     ON DUPLICATE KEY UPDATE user_id = event_holders.user_id`,
    [...ids, eventId],
  );
}
