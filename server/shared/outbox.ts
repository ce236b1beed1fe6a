import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { DomainEventType } from './domain-events';

export { DOMAIN_EVENT_TYPES, type DomainEventType } from './domain-events';

/**
 * The transactional outbox: domain events are written as rows of `outbox` in the SAME transaction as the change
 * they describe, so an event exists exactly when its change committed (none lost, none for a rolled-back change).
 * The webhook dispatcher (server/webhooks/) reads them later and delivers them. This module lives in shared/
 * because the inventory core writes events from inside its group commit, and the inventory may not import a
 * feature; it knows no webhook.
 */

/** The `data` of each event type (documented in docs/WEBHOOKS.md). */
export interface DomainEventData {
  'booking.confirmed': { bookingId: number; reference: string; eventId: number; userId: number; totalCents: number; seatIds: number[] };
  'booking.cancelled': { bookingId: number; reference: string; eventId: number; userId: number; reason: string; seatIds: number[] };
  'hold.expired': { holdId: number; eventId: number; userId: number; seatIds: number[] };
  'waitlist.offer_made': { entryId: number; eventId: number; userId: number; holdId: number; partySize: number; seatIds: number[]; expiresAt: string };
  'waitlist.offer_accepted': { entryId: number; eventId: number; userId: number; holdId: number | null };
  'waitlist.offer_declined': { entryId: number; eventId: number; userId: number; holdId: number | null };
  /** `reason` is set when the offer ended with its event (`event_cancelled`), not by running out. */
  'waitlist.offer_lapsed': { entryId: number; eventId: number; userId: number; holdId: number | null; reason?: 'event_cancelled' };
  'event.status_changed': { eventId: number; from: string; to: string; reason?: string };
}

/** One domain event to append. */
export type DomainEvent = { [T in DomainEventType]: { type: T; data: DomainEventData[T] } }[DomainEventType];

/** Rows per INSERT statement (bounds the statement's bindings on a large batch). */
const CHUNK = 200;

/**
 * The `outbox` rows of `events` as of `now`, in chunks of at most 200: one multi-row INSERT each. For a caller
 * that sends the inserts itself (a batch's write round); appendOutbox runs them.
 */
export function outboxChunks(events: DomainEvent[], now: number): Record<string, unknown>[][] {
  const rows = events.map((e) => ({
    uid: randomUUID(),
    type: e.type,
    event_id: e.data.eventId,
    data: JSON.stringify(e.data),
    created_at: now,
  }));
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) chunks.push(rows.slice(i, i + CHUNK));
  return chunks;
}

/**
 * Appends events to the outbox inside the caller's transaction `trx`, one multi-row INSERT per 200 events.
 * `now` is the change's time (the injected clock), so an event's `createdAt` matches the change it reports.
 */
export async function appendOutbox(trx: Knex.Transaction, events: DomainEvent[], now: number): Promise<void> {
  for (const rows of outboxChunks(events, now)) await trx('outbox').insert(rows);
}
