import type { Db } from '../db/knex';
import { withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { EventView, UpdateEventBody } from '../contracts/events';
import { repriceSeats } from '../inventory/operations';
import type { Notifier } from '../realtime/notifier';
import type { Clock } from '../shared/clock';
import { appendOutbox } from '../shared/outbox';
import { ConflictError, NotFoundError, PreconditionFailedError, UnprocessableError } from '../shared/errors';
import type { EventsService } from './service';

export interface EventLifecycleDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  events: EventsService;
  retry?: RetryOptions;
}

/** Which status an admin may move an event to from each status (cancellation has its own path). */
const TRANSITIONS: Record<string, string[]> = {
  draft: ['draft', 'on_sale'],
  on_sale: ['on_sale', 'closed'],
  closed: ['closed', 'on_sale'],
  cancelled: [],
};

/**
 * The event lifecycle as admins run it: create, read (drafts too) and change an event, moving it draft → on_sale →
 * closed ⇄ on_sale, with writes guarded by the row's version (optimistic concurrency: a stale If-Match gets 412 and
 * changes nothing). Cancellation has its own module (cancellation.ts): it undoes bookings and holds.
 */
export class EventLifecycle {
  constructor(private readonly deps: EventLifecycleDeps) {}

  private tx<T>(body: (trx: Trx) => Promise<T>): Promise<T> {
    return withTransaction(this.deps.db, body, this.deps.retry);
  }

  async createEvent(input: Parameters<EventsService['create']>[0]): Promise<EventView> {
    return this.deps.events.create(input);
  }

  async getEvent(eventId: number): Promise<EventView> {
    return this.deps.events.get(eventId, { includeDrafts: true });
  }

  /**
   * Changes an event if it is still at `expectedVersion` (a compare-and-set on the version, so two admins
   * cannot overwrite each other). Status moves draft → on_sale → closed ⇄ on_sale. New prices apply to
   * every seat of the category not yet booked; bookings keep the price they were sold at.
   */
  async updateEvent(eventId: number, body: UpdateEventBody, expectedVersion: number): Promise<EventView> {
    const statusChanged = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      const ev = (await trx('events').where({ id: eventId }).first()) as Record<string, number & string> | undefined;
      if (!ev) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
      if (ev.version !== expectedVersion) throw new PreconditionFailedError('The event changed since you read it', { currentVersion: ev.version });
      if (ev.status === 'cancelled') throw new ConflictError('EVENT_CANCELLED', 'A cancelled event cannot be changed');
      if (body.status && !TRANSITIONS[ev.status]!.includes(body.status)) {
        throw new ConflictError('INVALID_STATUS_TRANSITION', `An event cannot go from ${ev.status} to ${body.status}`, {
          from: ev.status,
          to: body.status,
          allowed: TRANSITIONS[ev.status]!.filter((s) => s !== ev.status),
        });
      }
      const startsAt = body.startsAt ? Date.parse(body.startsAt) : Number(ev.starts_at);
      const endsAt = body.endsAt === undefined ? (ev.ends_at === null ? null : Number(ev.ends_at)) : body.endsAt === null ? null : Date.parse(body.endsAt);
      if (endsAt !== null && endsAt < startsAt) throw new UnprocessableError('INVALID_TIMES', 'An event cannot end before it starts');
      const ttl = body.holdTtlSeconds ?? ev.hold_ttl_seconds;
      const patch: Record<string, unknown> = {
        updated_at: now,
        version: trx.raw('version + 1'),
        starts_at: startsAt,
        ends_at: endsAt,
        hold_ttl_seconds: ttl,
        max_hold_life_seconds: Math.max(body.maxHoldLifeSeconds ?? ev.max_hold_life_seconds, ttl),
      };
      if (body.name !== undefined) patch.name = body.name;
      if (body.description !== undefined) patch.description = body.description;
      if (body.status !== undefined) patch.status = body.status;
      if (body.maxSeatsPerOrder !== undefined) patch.max_seats_per_order = body.maxSeatsPerOrder;
      if (body.maxSeatsPerUser !== undefined) patch.max_seats_per_user = body.maxSeatsPerUser;
      const changed = await trx('events').where({ id: eventId, version: expectedVersion }).update(patch);
      if (changed !== 1) throw new PreconditionFailedError('The event changed since you read it');

      if (body.prices) {
        const used = (await trx('seats').where({ venue_id: ev.venue_id }).distinct('category')) as { category: string }[];
        const known = new Set(used.map((c) => c.category));
        const gaCats = (await trx('sections').where({ venue_id: ev.venue_id, kind: 'ga' }).select('category')) as { category: string | null }[];
        for (const g of gaCats) if (g.category) known.add(g.category);
        const unknown = body.prices.filter((p) => !known.has(p.category)).map((p) => p.category);
        if (unknown.length) throw new UnprocessableError('UNKNOWN_CATEGORY', 'This venue has no seats in these categories', { categories: unknown });
        for (const p of body.prices) {
          await trx('event_prices').where({ event_id: eventId, category: p.category }).delete();
          await trx('event_prices').insert({ event_id: eventId, category: p.category, price_cents: p.priceCents });
          await repriceSeats(trx, { eventId, venueId: ev.venue_id, category: p.category, priceCents: p.priceCents });
        }
      }
      if (body.status === undefined || body.status === ev.status) return null;
      await appendOutbox(trx, [{ type: 'event.status_changed', data: { eventId, from: ev.status, to: body.status } }], now);
      return body.status;
    });
    if (statusChanged) this.deps.notifier.eventStatus?.({ eventId, status: statusChanged as 'on_sale' | 'closed' | 'draft' });
    return this.getEvent(eventId);
  }
}
