import { stockEventSeats } from '../inventory/operations';
import type { Db } from '../db/knex';
import { withTransaction } from '../db/transaction';
import { batchedRead } from '../db/batched-read';
import type { Clock } from '../shared/clock';
import { NotFoundError, UnprocessableError } from '../shared/errors';
import type { Page } from '../shared/validation';
import type { VenuesService } from '../venues/service';
import { EventModel } from './event-model';
import type { CreateEventInput, EventDetailView, EventView, ListEventsQuery } from '../contracts/events';

export interface EventsDeps {
  db: Db;
  clock: Clock;
  venues: VenuesService;
}

/** Prices are integer cents in this one currency. */
export const CURRENCY = 'EUR';

const SORTS: Record<ListEventsQuery['sort'], [string, 'asc' | 'desc']> = {
  startsAt: ['starts_at', 'asc'],
  '-startsAt': ['starts_at', 'desc'],
  name: ['name', 'asc'],
  '-name': ['name', 'desc'],
  id: ['id', 'asc'],
  '-id': ['id', 'desc'],
};

const iso = (ms: number | null): string | null => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());

/** Events: listing and reading for everyone, creation for admins (and the seed). */
export class EventsService {
  /** Events' statuses, read together with the other events asked for in the same turn (a join storm's handshakes). */
  private readonly readStatus: (eventId: number) => Promise<string | undefined>;

  constructor(private readonly deps: EventsDeps) {
    this.readStatus = batchedRead(async (ids) => {
      const rows = (await deps.db('events').whereIn('id', ids).select('id', 'status')) as { id: number; status: string }[];
      return new Map(rows.map((r) => [Number(r.id), r.status]));
    });
  }

  /** Buyers see every event but drafts; staff see drafts too. */
  async list(query: ListEventsQuery, opts: { includeDrafts: boolean }): Promise<Page<EventView>> {
    const base = EventModel.query(this.deps.db).modify((q) => {
      if (query.status) q.where('status', query.status);
      else if (!opts.includeDrafts) q.whereNot('status', 'draft');
      if (query.status === 'draft' && !opts.includeDrafts) q.whereRaw('1 = 0');
      if (query.venueId) q.where('venue_id', query.venueId);
      if (query.q) q.where('name', 'like', `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      if (query.from) q.where('starts_at', '>=', Date.parse(query.from));
      if (query.to) q.where('starts_at', '<=', Date.parse(query.to));
    });
    const [col, dir] = SORTS[query.sort];
    const [rows, total] = await Promise.all([
      base.clone().orderBy(col, dir).orderBy('id', 'asc').offset((query.page - 1) * query.limit).limit(query.limit),
      base.clone().resultSize(),
    ]);
    const prices = await this.pricesOf(rows.map((r) => r.id));
    return { items: rows.map((r) => this.toView(r, prices.get(r.id) ?? [])), page: query.page, limit: query.limit, total };
  }

  async get(eventId: number, opts: { includeDrafts: boolean }): Promise<EventView> {
    const row = await EventModel.query(this.deps.db).findById(eventId);
    if (!row || (row.status === 'draft' && !opts.includeDrafts)) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
    const prices = await this.pricesOf([row.id]);
    return this.toView(row, prices.get(row.id) ?? []);
  }

  /**
   * The event with its venue and full seat layout (the static part of a seat map). `withLayout: false` leaves the
   * layout out, for clients that take it from its cacheable URL (`GET /api/events/:id/layout`).
   */
  async detail(eventId: number, opts: { includeDrafts: boolean; withLayout?: boolean }): Promise<EventDetailView> {
    const event = await this.get(eventId, opts);
    if (opts.withLayout === false) return { ...event, venue: await this.deps.venues.get(event.venueId) };
    const [venue, layout] = await Promise.all([this.deps.venues.get(event.venueId), this.deps.venues.layout(event.venueId)]);
    return { ...event, venue: { ...venue, layout } };
  }

  /** True if the event exists and is not a draft (used by the socket handshake). */
  async isWatchable(eventId: number): Promise<boolean> {
    // An id no event can have (a caller that did not bound it) never reaches the batch: one bad key must not fail
    // the other handshakes batched with it.
    if (!Number.isSafeInteger(eventId) || eventId <= 0) return false;
    const status = await this.readStatus(eventId);
    return status !== undefined && status !== 'draft';
  }

  /**
   * Creates an event and one event_seats row per seat of its venue, priced by category. Every category
   * the venue uses must have a price.
   */
  async create(input: CreateEventInput): Promise<EventView> {
    const now = this.deps.clock.now();
    const id = await withTransaction(this.deps.db, async (trx) => {
      const venue = await trx('venues').where({ id: input.venueId }).first('id');
      if (!venue) throw new NotFoundError('Venue', 'VENUE_NOT_FOUND');
      const priceOf = new Map(input.prices.map((p) => [p.category, p.priceCents]));
      const seats = (await trx('seats').where({ venue_id: input.venueId }).select('id', 'category')) as { id: number; category: string }[];
      // General-admission areas: a capacity counter per event instead of seat rows (priced by their category).
      const gaAreas = (await trx('sections').where({ venue_id: input.venueId, kind: 'ga' }).orderBy('id').select('id', 'capacity', 'category')) as {
        id: number;
        capacity: number;
        category: string;
      }[];
      const unpriced = [...new Set([...seats.map((s) => s.category), ...gaAreas.map((a) => a.category)].filter((c) => !priceOf.has(c)))];
      if (unpriced.length) throw new UnprocessableError('MISSING_PRICES', 'Every seat category needs a price', { categories: unpriced });
      const [eventId] = await trx('events').insert({
        venue_id: input.venueId,
        name: input.name,
        description: input.description ?? null,
        starts_at: Date.parse(input.startsAt),
        ends_at: input.endsAt ? Date.parse(input.endsAt) : null,
        status: input.status,
        hold_ttl_seconds: input.holdTtlSeconds,
        max_hold_life_seconds: Math.max(input.maxHoldLifeSeconds, input.holdTtlSeconds),
        max_seats_per_order: input.maxSeatsPerOrder,
        max_seats_per_user: input.maxSeatsPerUser,
        version: 1,
        created_at: now,
        updated_at: now,
      });
      await trx('event_prices').insert(input.prices.map((p) => ({ event_id: eventId, category: p.category, price_cents: p.priceCents })));
      await stockEventSeats(trx, eventId, seats.map((s) => ({ seatId: s.id, priceCents: priceOf.get(s.category)! })));
      if (gaAreas.length) {
        await trx('event_ga_areas').insert(
          gaAreas.map((a) => ({ event_id: eventId, section_id: a.id, capacity: a.capacity, held: 0, booked: 0, version: 1, price_cents: priceOf.get(a.category)! })),
        );
      }
      return Number(eventId);
    });
    return this.get(id, { includeDrafts: true });
  }

  private async pricesOf(eventIds: number[]): Promise<Map<number, { category: string; priceCents: number }[]>> {
    const map = new Map<number, { category: string; priceCents: number }[]>();
    if (eventIds.length === 0) return map;
    const rows = await this.deps.db('event_prices').whereIn('event_id', eventIds).orderBy(['event_id', 'category']);
    for (const r of rows) {
      const list = map.get(r.event_id) ?? [];
      list.push({ category: r.category, priceCents: r.price_cents });
      map.set(r.event_id, list);
    }
    return map;
  }

  private toView(r: EventModel, prices: { category: string; priceCents: number }[]): EventView {
    return {
      id: r.id,
      venueId: r.venue_id,
      name: r.name,
      description: r.description ?? null,
      startsAt: iso(r.starts_at)!,
      endsAt: iso(r.ends_at),
      status: r.status,
      holdTtlSeconds: r.hold_ttl_seconds,
      maxHoldLifeSeconds: r.max_hold_life_seconds,
      maxSeatsPerOrder: r.max_seats_per_order,
      maxSeatsPerUser: r.max_seats_per_user,
      currency: CURRENCY,
      prices,
      version: r.version,
    };
  }
}
