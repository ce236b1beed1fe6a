import { randomBytes } from 'node:crypto';
import { isMysql, type Db } from '../db/knex';
import { withTransaction, type RetryOptions } from '../db/transaction';

/** A delivery this node claimed: what it needs to send one attempt. */
export interface ClaimedDelivery {
  id: number;
  uid: string;
  attempts: number;
  retryFrom: number;
  url: string;
  secret: string;
  event: { uid: string; type: string; createdAt: number; data: string };
}

/**
 * Claims up to `limit` due deliveries for this node: pending, due, of an enabled endpoint, and not under
 * another node's live lease. The claim sets a lease (`claimed_until = now + leaseMs`) and a fresh claim token,
 * and counts the attempt, in one transaction; on MySQL the candidates are read `FOR UPDATE SKIP LOCKED` so two
 * nodes claiming at once take disjoint rows, and the UPDATE repeats the due-and-unleased predicate (a
 * compare-and-set) so no two nodes ever hold the same attempt. A node that dies holding a lease only delays that
 * delivery until the lease lapses; then any node claims it again (at least once, never lost).
 */
export async function claimDue(db: Db, now: number, limit: number, leaseMs: number, retry?: RetryOptions): Promise<{ token: string; claimed: ClaimedDelivery[] }> {
  const token = randomBytes(12).toString('hex');
  const claimed = await withTransaction(
    db,
    async (trx) => {
      const enabled = (await trx('webhook_endpoints').where('enabled', true).pluck('id')) as number[];
      if (enabled.length === 0) return [];
      const due = (q: ReturnType<typeof trx>) =>
        q
          .where('status', 'pending')
          .andWhere('next_attempt_at', '<=', now)
          .andWhere((w) => w.whereNull('claimed_until').orWhere('claimed_until', '<=', now));
      const pick = due(trx('webhook_deliveries')).whereIn('endpoint_id', enabled).orderBy('next_attempt_at').orderBy('id').limit(limit);
      if (isMysql(db)) pick.forUpdate().skipLocked();
      const ids = (await pick.pluck('id')) as number[];
      if (ids.length === 0) return [];
      await due(trx('webhook_deliveries'))
        .whereIn('id', ids)
        .update({ claimed_until: now + leaseMs, claim_token: token, attempts: trx.raw('attempts + 1'), updated_at: now });
      return (await trx('webhook_deliveries as d')
        .join('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
        .join('outbox as o', 'o.id', 'd.outbox_id')
        .where('d.claim_token', token)
        .orderBy('d.id')
        .select('d.id', 'd.uid', 'd.attempts', 'd.retry_from', 'e.url', 'e.secret', 'o.uid as event_uid', 'o.type', 'o.created_at as event_created_at', 'o.data')) as {
        id: number;
        uid: string;
        attempts: number;
        retry_from: number | string;
        url: string;
        secret: string;
        event_uid: string;
        type: string;
        event_created_at: number | string;
        data: string;
      }[];
    },
    retry,
  );
  return {
    token,
    claimed: claimed.map((r) => ({
      id: Number(r.id),
      uid: r.uid,
      attempts: r.attempts,
      retryFrom: Number(r.retry_from),
      url: r.url,
      secret: r.secret,
      event: { uid: r.event_uid, type: r.type, createdAt: Number(r.event_created_at), data: r.data },
    })),
  };
}

/** How one attempt ended, as the delivery log records it. */
export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status: number | null; error: string; nextAttemptAt: number }
  | { kind: 'failed'; status: number | null; error: string };

/**
 * Records an attempt's outcome, if this node still holds the claim (`token`): a lease that lapsed and was
 * claimed again by another node is that node's to record. Returns false when the claim was lost.
 */
export async function recordAttempt(db: Db, id: number, token: string, now: number, outcome: AttemptOutcome): Promise<boolean> {
  const base = { claimed_until: null, claim_token: null, updated_at: now, last_status: outcome.status };
  const patch =
    outcome.kind === 'delivered'
      ? { ...base, status: 'delivered', delivered_at: now, last_error: null }
      : outcome.kind === 'retry'
        ? { ...base, next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error.slice(0, 500) }
        : { ...base, status: 'failed', last_error: outcome.error.slice(0, 500) };
  const changed = await db('webhook_deliveries').where({ id, claim_token: token, status: 'pending' }).update(patch);
  return changed === 1;
}
