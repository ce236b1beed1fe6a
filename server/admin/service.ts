import type { AuthUser } from '../shared/auth-user';
import { cancelBooking, releaseHold, repriceSeats } from '../inventory/operations';
import type { Db } from '../db/knex';
import { withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { EventsService } from '../events/service';
import type { EventView } from '../contracts/events';
import type { Notifier } from '../realtime/notifier';
import type { SeatState } from '../contracts';
import type { Clock } from '../shared/clock';
import { AppError, ConflictError, NotFoundError, PreconditionFailedError, UnprocessableError } from '../shared/errors';
import type { Page } from '../shared/validation';
import { curvedSection, rectangularSection } from '../venues/layout-generator';
import type { LayoutInput, LayoutView, SectionInput, VenueView } from '../contracts/venues';
import type { VenuesService } from '../venues/service';
import type { CreateVenueBody, ListVenuesQuery, UpdateEventBody, UpdateVenueBody } from './schemas';

export interface AdminDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  venues: VenuesService;
  events: EventsService;
  retry?: RetryOptions;
  /** Non-seat parts of holds and bookings (general-admission tickets), given back when an event is cancelled. */
  holdExtras?: CancellableExtras;
}

/** The part of the general-admission hooks that event cancellation needs (structural, so no import cycle). */
export interface CancellableExtras {
  closeHold(trx: Trx, holdId: number): Promise<boolean>;
  cancelBooking(trx: Trx, bookingId: number): Promise<boolean>;
  changed(eventId: number): void;
}

/** Largest layout one venue may have (seats over all sections). */
export const MAX_VENUE_SEATS = 100_000;

/** Which status an admin may move an event to from each status (cancellation has its own path). */
const TRANSITIONS: Record<string, string[]> = {
  draft: ['draft', 'on_sale'],
  on_sale: ['on_sale', 'closed'],
  closed: ['closed', 'on_sale'],
  cancelled: [],
};

const VENUE_SORTS: Record<ListVenuesQuery['sort'], [string, 'asc' | 'desc']> = {
  name: ['name', 'asc'],
  '-name': ['name', 'desc'],
  id: ['id', 'asc'],
  '-id': ['id', 'desc'],
  createdAt: ['created_at', 'asc'],
  '-createdAt': ['created_at', 'desc'],
};

/**
 * Parses an `If-Match` header into the version it names. Accepts `"3"`, `W/"3"` and `3`. A write without
 * one is refused (428): an admin edit must say which version it was made against.
 */
export function versionFromIfMatch(header: string | undefined): number {
  if (header === undefined || header.trim() === '') {
    throw new AppError(428, 'PRECONDITION_REQUIRED', 'Send If-Match with the ETag you read (e.g. If-Match: "3")');
  }
  const m = /^\s*(?:W\/)?"?([1-9][0-9]{0,9})"?\s*$/.exec(header);
  if (!m) throw new AppError(400, 'VALIDATION_FAILED', 'If-Match must be an ETag like "3"', [{ path: 'If-Match', message: 'not an ETag' }]);
  return Number(m[1]);
}

/** The ETag of a versioned resource. */
export const etagOf = (version: number): string => `"${version}"`;

/**
 * Admin catalogue: venues (with generated or imported layouts) and the event lifecycle, with writes
 * guarded by the row's version (optimistic concurrency: a stale If-Match gets 412 and changes nothing).
 */
export class AdminService {
  constructor(private readonly deps: AdminDeps) {}

  private tx<T>(body: (trx: Trx) => Promise<T>): Promise<T> {
    return withTransaction(this.deps.db, body, this.deps.retry);
  }

  /**
   * Creates a venue from sections given seat by seat (an imported JSON layout) and/or generated from a
   * rectangular or curved spec. Refuses an empty layout, repeated section names and repeated seat labels.
   */
  async createVenue(body: CreateVenueBody): Promise<VenueView & { layout: LayoutView }> {
    const sections: SectionInput[] = body.sections.map((s) => {
      if (s.kind === 'rectangular') {
        const cats = s.category;
        return rectangularSection({ ...s, category: typeof cats === 'string' ? cats : (r) => cats[Math.min(r, cats.length - 1)]! });
      }
      if (s.kind === 'curved') {
        const cats = s.category;
        return curvedSection({ ...s, category: typeof cats === 'string' ? cats : (r) => cats[Math.min(r, cats.length - 1)]! });
      }
      return s;
    });
    const seatCount = sections.reduce((n, s) => n + s.seats.length, 0);
    const gaCapacity = sections.reduce((n, s) => n + (s.kind === 'ga' ? (s.capacity ?? 0) : 0), 0);
    if (sections.length === 0 || seatCount + gaCapacity === 0) {
      throw new UnprocessableError('EMPTY_LAYOUT', 'A venue needs at least one section with seats (or a general-admission area)');
    }
    if (seatCount > MAX_VENUE_SEATS) {
      throw new UnprocessableError('LAYOUT_TOO_LARGE', `A venue may have at most ${MAX_VENUE_SEATS} seats`, { seats: seatCount });
    }
    const names = sections.map((s) => s.name);
    const dupNames = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
    if (dupNames.length) throw new UnprocessableError('DUPLICATE_SECTION_NAMES', 'Section names must be unique within a venue', { sections: dupNames });
    const layout: LayoutInput = { sections };
    // VenuesService.create rejects duplicate seat labels (DUPLICATE_SEAT_LABELS) before writing anything.
    const venue = await this.deps.venues.create({ name: body.name, address: body.address ?? null, layout });
    return { ...venue, layout: await this.deps.venues.layout(venue.id) };
  }

  async listVenues(query: ListVenuesQuery): Promise<Page<VenueView>> {
    const db = this.deps.db;
    const base = db('venues').modify((q) => {
      if (query.q) q.where('name', 'like', `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    });
    const [col, dir] = VENUE_SORTS[query.sort];
    const [rows, [{ n }]] = await Promise.all([
      base.clone().orderBy(col, dir).orderBy('id', 'asc').offset((query.page - 1) * query.limit).limit(query.limit).select('id', 'name', 'address', 'version'),
      base.clone().count({ n: '*' }) as unknown as Promise<[{ n: number | string }]>,
    ]);
    const venues = rows as { id: number; name: string; address: string | null; version: number }[];
    // One grouped count for the page rather than one query per venue.
    const counts = venues.length
      ? ((await db('seats').whereIn('venue_id', venues.map((v) => v.id)).groupBy('venue_id').select('venue_id').count({ n: '*' })) as { venue_id: number; n: number | string }[])
      : [];
    const seatsOf = new Map(counts.map((c) => [c.venue_id, Number(c.n)]));
    const items = venues.map((v) => ({ id: v.id, name: v.name, address: v.address ?? null, version: v.version, seatCount: seatsOf.get(v.id) ?? 0 }));
    return { items, page: query.page, limit: query.limit, total: Number(n) };
  }

  async getVenue(venueId: number): Promise<VenueView & { layout: LayoutView }> {
    const venue = await this.deps.venues.get(venueId);
    return { ...venue, layout: await this.deps.venues.layout(venueId) };
  }

  /** Renames a venue or changes its address, if it is still at `expectedVersion`. */
  async updateVenue(venueId: number, body: UpdateVenueBody, expectedVersion: number): Promise<VenueView> {
    await this.tx(async (trx) => {
      const row = (await trx('venues').where({ id: venueId }).first('version')) as { version: number } | undefined;
      if (!row) throw new NotFoundError('Venue', 'VENUE_NOT_FOUND');
      const patch: Record<string, unknown> = { updated_at: this.deps.clock.now(), version: trx.raw('version + 1') };
      if (body.name !== undefined) patch.name = body.name;
      if (body.address !== undefined) patch.address = body.address;
      const changed = await trx('venues').where({ id: venueId, version: expectedVersion }).update(patch);
      if (changed !== 1) throw new PreconditionFailedError('The venue changed since you read it', { currentVersion: row.version });
    });
    return this.deps.venues.get(venueId);
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
      return body.status !== undefined && body.status !== ev.status ? body.status : null;
    });
    if (statusChanged) this.deps.notifier.eventStatus?.({ eventId, status: statusChanged as 'on_sale' | 'closed' | 'draft' });
    return this.getEvent(eventId);
  }

  /**
   * Cancels an event: its status becomes `cancelled` (so no new hold or booking can start), and in the
   * same transaction every confirmed booking is cancelled and every active hold released. A hold or
   * booking that was already in flight when the status flipped can still commit just after, so a few
   * follow-up passes sweep such stragglers. Everybody watching is told (`event:status`), each booker on
   * their own sockets (`booking:cancelled`), each holder too (`hold:expired` with reason event_cancelled).
   */
  async cancelEvent(actor: AuthUser, eventId: number, expectedVersion: number, reason?: string): Promise<EventView & { cancelledBookings: number; releasedHolds: number }> {
    const first = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      const ev = (await trx('events').where({ id: eventId }).first('status', 'version')) as { status: string; version: number } | undefined;
      if (!ev) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
      if (ev.version !== expectedVersion) throw new PreconditionFailedError('The event changed since you read it', { currentVersion: ev.version });
      if (ev.status === 'cancelled') throw new ConflictError('EVENT_ALREADY_CANCELLED', 'This event is already cancelled');
      const changed = await trx('events')
        .where({ id: eventId, version: expectedVersion })
        .update({ status: 'cancelled', version: trx.raw('version + 1'), updated_at: now });
      if (changed !== 1) throw new PreconditionFailedError('The event changed since you read it');
      return cancelContents(trx, eventId, actor.id, now, this.deps.holdExtras);
    });
    this.deps.notifier.eventStatus?.({ eventId, status: 'cancelled', ...(reason ? { reason } : {}) });
    let total = this.announce(eventId, first);
    for (let pass = 0; pass < 3; pass++) {
      const more = await this.tx((trx) => cancelContents(trx, eventId, actor.id, this.deps.clock.now(), this.deps.holdExtras));
      const n = this.announce(eventId, more);
      total = { bookings: total.bookings + n.bookings, holds: total.holds + n.holds };
      if (n.bookings + n.holds === 0) break;
    }
    return { ...(await this.getEvent(eventId)), cancelledBookings: total.bookings, releasedHolds: total.holds };
  }

  private announce(eventId: number, c: Cleanup): { bookings: number; holds: number } {
    if (c.seats.length) this.deps.notifier.seatsChanged(eventId, c.seats, c.cursor);
    if (c.extrasChanged) this.deps.holdExtras?.changed(eventId);
    for (const b of c.bookings) {
      this.deps.notifier.bookingCancelled?.(b.user_id, { eventId, bookingId: b.id, reference: b.reference, reason: 'event_cancelled' });
    }
    for (const h of c.holds) this.deps.notifier.holdExpired(h.user_id, { eventId, holdToken: h.token, seatIds: h.seatIds, reason: 'event_cancelled' });
    return { bookings: c.bookings.length, holds: c.holds.length };
  }
}

interface Cleanup {
  seats: SeatState[];
  cursor: number;
  bookings: { id: number; user_id: number; reference: string }[];
  holds: { user_id: number; token: string; seatIds: number[] }[];
  extrasChanged: boolean;
}

/** Cancels every confirmed booking and releases every active hold of an event, inside the caller's transaction. */
async function cancelContents(trx: Trx, eventId: number, actorId: number, now: number, extras?: CancellableExtras): Promise<Cleanup> {
  const out: Cleanup = { seats: [], cursor: 0, bookings: [], holds: [], extrasChanged: false };
  const bookings = (await trx('bookings').where({ event_id: eventId, status: 'confirmed' }).orderBy('id').select('id', 'event_id', 'user_id', 'reference')) as {
    id: number;
    event_id: number;
    user_id: number;
    reference: string;
  }[];
  for (const b of bookings) {
    const r = await cancelBooking(trx, b, { actorId, reason: 'event_cancelled', now });
    if (extras && (await extras.cancelBooking(trx, b.id))) out.extrasChanged = true;
    out.seats.push(...r.seats);
    out.cursor = Math.max(out.cursor, r.cursor);
    out.bookings.push({ id: b.id, user_id: b.user_id, reference: b.reference });
  }
  const holds = (await trx('holds').where({ event_id: eventId, status: 'active' }).orderBy('id').select('id', 'user_id', 'token')) as {
    id: number;
    user_id: number;
    token: string;
  }[];
  for (const h of holds) {
    const r = await releaseHold(trx, { eventId, holdId: h.id, actorId, reason: 'event_cancelled', now });
    if (!r) continue;
    if (extras && (await extras.closeHold(trx, h.id))) out.extrasChanged = true;
    out.seats.push(...r.seats);
    out.cursor = Math.max(out.cursor, r.cursor);
    out.holds.push({ user_id: h.user_id, token: h.token, seatIds: r.seats.map((s) => s.id) });
  }
  return out;
}
