import type { Db } from '../db/knex';
import type { RetryOptions } from '../db/transaction';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { nextAttemptAt } from './backoff';
import { claimDue, recordAttempt, type AttemptOutcome, type ClaimedDelivery } from './delivery-store';
import { fanOut, pruneOutbox } from './outbox-store';
import { postWebhook, type SendResult } from './sender';
import { signPayload } from './signing';

export interface DispatcherOptions {
  db: Db;
  clock: Clock;
  logger?: Logger;
  retry?: RetryOptions;
  /** Outbox rows fanned out and deliveries claimed per tick (also the most POSTs in flight from this node). */
  batchSize: number;
  /** Hard timeout of one POST. */
  timeoutMs: number;
  /** Deliver to private and reserved addresses too (WEBHOOK_ALLOW_PRIVATE_TARGETS); off: refused at connect. */
  allowPrivateTargets?: boolean;
  /** How long a claim protects a delivery; longer than the timeout, so a live node always records first. */
  leaseMs?: number;
  /** Each attempt's outcome (metrics). */
  onOutcome?: (outcome: AttemptOutcome['kind']) => void;
  /** A tick that failed (database down): counted, logged once per tick. */
  onError?: (err: unknown) => void;
}

/** What one tick did. */
export interface TickResult {
  fannedOut: number;
  attempted: number;
  delivered: number;
}

/** How often (by the injected clock) a node prunes old outbox rows. */
const PRUNE_EVERY_MS = 60_000;

/**
 * The webhook dispatcher, one per node. Each tick fans new outbox rows out into deliveries, claims due
 * deliveries under a lease, POSTs them signed and concurrently, and records each outcome (delivered, retry at
 * the next backoff step, or failed after a day). Ticks never overlap on a node; nodes coordinate through the
 * database only (see delivery-store.ts), so any number may run.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;
  private lastPrune = 0;

  constructor(private readonly opts: DispatcherOptions) {}

  /** Ticks every `intervalMs` (after the previous tick finished) until `stop()`. */
  start(intervalMs: number): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((err) => {
          this.opts.onError?.(err);
          this.opts.logger?.warn({ err }, 'webhook dispatch tick failed; will retry');
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, intervalMs).unref();
        });
    };
    this.timer = setTimeout(loop, intervalMs).unref();
  }

  /** Stops ticking and waits for the tick in flight (its POSTs finish or time out, and are recorded). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One round: fan out, claim, send, record. Tests call it directly with a moved clock. */
  async tick(): Promise<TickResult> {
    const { db, clock } = this.opts;
    const fannedOut = await this.fanOut();
    const { token, claimed } = await this.claim();
    const outcomes = await Promise.all(claimed.map((d) => this.deliver(d, token)));
    if (clock.now() - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = clock.now();
      await pruneOutbox(db, clock.now());
    }
    return { fannedOut, attempted: claimed.length, delivered: outcomes.filter((o) => o === 'delivered').length };
  }

  /** Turns new outbox rows into pending deliveries; returns the rows dispatched. */
  fanOut(): Promise<number> {
    const { db, clock, batchSize, retry } = this.opts;
    return fanOut(db, clock.now(), batchSize, retry);
  }

  /** Claims due deliveries for this node (exposed so a test can claim and then "die" without sending). */
  claim(): Promise<{ token: string; claimed: ClaimedDelivery[] }> {
    const { db, clock, batchSize, timeoutMs, leaseMs, retry } = this.opts;
    return claimDue(db, clock.now(), batchSize, leaseMs ?? timeoutMs + 30_000, retry);
  }

  private async deliver(d: ClaimedDelivery, token: string): Promise<AttemptOutcome['kind']> {
    const { clock, timeoutMs, logger } = this.opts;
    const body = JSON.stringify({ id: d.event.uid, type: d.event.type, createdAt: new Date(d.event.createdAt).toISOString(), data: JSON.parse(d.event.data) });
    const timestamp = Math.floor(clock.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Evently-Webhooks/1',
      'evently-event-id': d.event.uid,
      'evently-event-type': d.event.type,
      'evently-delivery-id': d.uid,
      'evently-delivery-attempt': String(d.attempts),
      'evently-timestamp': String(timestamp),
      'evently-signature': signPayload(d.secret, timestamp, body),
    };
    const result: SendResult = await postWebhook(d.url, body, headers, timeoutMs, { allowPrivateTargets: this.opts.allowPrivateTargets });
    const now = clock.now();
    let outcome: AttemptOutcome;
    if (result.ok) outcome = { kind: 'delivered', status: result.status! };
    else {
      const error = result.error ?? 'failed';
      const next = nextAttemptAt(d.retryFrom, now, d.attempts);
      outcome = next === null ? { kind: 'failed', status: result.status, error } : { kind: 'retry', status: result.status, error, nextAttemptAt: next };
    }
    try {
      const recorded = await recordAttempt(this.opts.db, d.id, token, now, outcome);
      if (!recorded) logger?.warn({ deliveryId: d.uid, eventId: d.event.uid }, 'webhook delivery claim lapsed before its outcome was recorded');
    } catch (err) {
      // The lease lapses and another node (or this one) tries again: at least once, never lost.
      logger?.warn({ err, deliveryId: d.uid, eventId: d.event.uid }, 'could not record a webhook attempt; it will be retried');
    }
    this.opts.onOutcome?.(outcome.kind);
    if (outcome.kind === 'failed') logger?.warn({ deliveryId: d.uid, eventId: d.event.uid, url: d.url, error: outcome.error }, 'webhook delivery failed for good after a day of retries');
    else if (outcome.kind === 'retry') logger?.info({ deliveryId: d.uid, eventId: d.event.uid, attempt: d.attempts, error: outcome.error }, 'webhook delivery attempt failed; will retry');
    return outcome.kind;
  }
}
