import type { ErrorBody } from '../packages/client/src';

/**
 * What a real client does with a refusal: the server's `BUSY` (load shedding, server/db/backpressure.ts) and
 * `RATE_LIMITED` (server/ratelimit/limits.ts) answers say "not now" without deciding the command, and both carry
 * `details.retryAfterSeconds` (the REST `Retry-After` header's value). Everything else is a decision.
 */
export const RETRY_LATER_CODES = ['BUSY', 'RATE_LIMITED'] as const;
export type RetryLaterCode = (typeof RETRY_LATER_CODES)[number];

/** Used when a refusal carries no usable `retryAfterSeconds`. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;
/** Jitter factor range: the wait is Retry-After x uniform(JITTER_MIN, JITTER_MAX), so refused clients spread out. */
export const JITTER_MIN = 0.5;
export const JITTER_MAX = 1.5;

/** The code when `error` asks the client to come back later (BUSY or RATE_LIMITED), else undefined. */
export function retryLaterCode(error: ErrorBody): RetryLaterCode | undefined {
  return (RETRY_LATER_CODES as readonly string[]).includes(error.code) ? (error.code as RetryLaterCode) : undefined;
}

/** The server's Retry-After in seconds: `details.retryAfterSeconds` when it is a positive finite number, else 1 s. */
export function retryAfterSeconds(error: ErrorBody): number {
  const v = (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : DEFAULT_RETRY_AFTER_SECONDS;
}

/**
 * Milliseconds to wait before sending again after a BUSY/RATE_LIMITED answer: the server's Retry-After times a
 * uniform jitter in [0.5, 1.5). `random` is injectable so a test can pin it.
 */
export function retryDelayMs(error: ErrorBody, random: () => number = Math.random): number {
  return retryAfterSeconds(error) * 1000 * (JITTER_MIN + (JITTER_MAX - JITTER_MIN) * random());
}
