import type { Knex } from 'knex';
import type { Db } from './knex';

export type Trx = Knex.Transaction;

/**
 * Thrown inside a transaction body to say "the world moved under me, run the whole thing again":
 * a compare-and-set matched fewer rows than expected for a reason a fresh read may resolve.
 */
export class RetryableConflict extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RetryableConflict';
  }
}

/** MySQL/MariaDB errors after which the *whole* transaction may be retried. */
const RETRYABLE_ERRNOS = new Set([
  1213, // ER_LOCK_DEADLOCK: the transaction was rolled back
  1205, // ER_LOCK_WAIT_TIMEOUT
  1020, // ER_CHECKREAD: record changed since last read (snapshot conflict)
]);

export function isRetryable(err: unknown): boolean {
  if (err instanceof RetryableConflict) return true;
  const e = err as { errno?: number; code?: string } | null;
  if (!e) return false;
  if (typeof e.errno === 'number' && RETRYABLE_ERRNOS.has(e.errno)) return true;
  return e.code === 'SQLITE_BUSY';
}

export function isDuplicateKey(err: unknown): boolean {
  const e = err as { errno?: number; code?: string } | null;
  return !!e && (e.errno === 1062 || e.code === 'ER_DUP_ENTRY' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
}

export interface RetryOptions {
  /** Total attempts including the first. */
  attempts?: number;
  /** Base backoff in ms; attempt n waits a random time in [0, min(cap, base * 2^n)) ("full jitter"). */
  baseDelayMs?: number;
  capDelayMs?: number;
  /** Called before each retry; metrics hook. */
  onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * Runs `body` in a transaction and commits it; on a deadlock, lock-wait timeout, snapshot conflict or
 * RetryableConflict it rolls back and runs the *whole* body again with bounded, jittered backoff. A statement
 * is never retried inside an aborted transaction. `body` must use `trx` for every query and must not have
 * side effects outside the database (broadcasts happen after this resolves).
 */
export async function withTransaction<T>(db: Db, body: (trx: Trx) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 8;
  const base = opts.baseDelayMs ?? 4;
  const cap = opts.capDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(body);
    } catch (err) {
      if (!isRetryable(err) || attempt >= attempts) throw err;
      opts.onRetry?.(err, attempt);
      const delay = Math.random() * Math.min(cap, base * 2 ** attempt);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
