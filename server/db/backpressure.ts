import { AppError } from '../shared/errors';
import type { Db } from './knex';

/** Refusal of new work while the database pool's queue is full; clients retry after `Retry-After`. */
export class BusyError extends AppError {
  constructor() {
    super(503, 'BUSY', 'The server is very busy right now; try again in a moment', { retryAfterSeconds: 1 });
  }
}

/**
 * Commands that finish work a buyer already has (book held seats, release them, extend a hold): never shed,
 * so a flash sale cannot strand a buyer between hold and booking. Socket command names and REST routes.
 */
export const FINISHING_COMMANDS = new Set(['booking:confirm', 'seat:release', 'hold:extend', 'waitlist:accept', 'waitlist:decline']);
const FINISHING_ROUTES: [string, RegExp][] = [
  ['POST', /^\/api\/bookings\/?$/],
  ['DELETE', /^\/api\/holds\/[^/]+\/?$/],
  ['POST', /^\/api\/holds\/[^/]+\/extend\/?$/],
  ['POST', /^\/api\/waitlist\/\d+\/(accept|decline)\/?$/],
];
export const finishesWork = (method: string, path: string): boolean => FINISHING_ROUTES.some(([m, re]) => m === method && re.test(path));

/**
 * Load shedding in front of the database pool. In a flash sale the pool's wait queue is where latency piles
 * up: left unbounded, a command can wait the whole acquire timeout (30 s) and then fail anyway. When more than
 * `maxQueued` requests already wait for a connection on this node, new commands are answered BUSY at once, so
 * the ones admitted stay fast and the rest know to retry. `maxQueued = 0` turns it off. Work that finishes
 * what a buyer already holds (FINISHING_COMMANDS) is never shed; new holds are also shed by the inventory's
 * group commit when they would wait too long for one event's next batch (HOLD_QUEUE_WAIT_MS, HOLD_QUEUE_MAX).
 */
export class Backpressure {
  constructor(
    private readonly db: Db,
    private readonly maxQueued: number,
  ) {}

  /** Throws BusyError when the pool's queue is full. */
  check(): void {
    if (this.maxQueued <= 0) return;
    const pool = (this.db.client as { pool?: { numPendingAcquires(): number } }).pool;
    if (pool && pool.numPendingAcquires() >= this.maxQueued) throw new BusyError();
  }
}
