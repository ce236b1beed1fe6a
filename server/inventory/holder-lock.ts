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
 */
export async function lockHolders(trx: Trx, eventId: number, userIds: Iterable<number>): Promise<void> {
  if (!isMysql(trx)) return;
  const ids = [...new Set(userIds)].sort((a, b) => a - b);
  if (!ids.length) return;
  await trx.raw(
    `INSERT INTO event_holders (event_id, user_id) VALUES ${ids.map(() => '(?, ?)').join(', ')} ON DUPLICATE KEY UPDATE user_id = user_id`,
    ids.flatMap((id) => [eventId, id]),
  );
}
