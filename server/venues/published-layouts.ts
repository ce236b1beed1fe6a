import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import type { Db } from '../db/knex';
import { layoutOrder, type LayoutOrder } from '../realtime/compact';
import type { EventLayout, SeatView } from '../contracts';
import { NotFoundError } from '../shared/errors';
import type { VenuesService } from './service';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** A venue layout ready to serve: its JSON once, pre-compressed, and its seat order for the compact form. */
export interface PublishedLayout {
  venueId: number;
  /** Content hash: the strong ETag and the `layoutVersion` of compact payloads. */
  version: string;
  json: Buffer;
  gzip: Buffer;
  br: Buffer;
  order: LayoutOrder;
}

export interface PublishedLayoutsDeps {
  db: Db;
  venues: VenuesService;
  /** Venues kept in memory (a 20,000-seat layout is ~3 MB of JSON plus its two compressed forms). */
  maxVenues?: number;
}

/**
 * Venue layouts as served by `GET /api/events/:id/layout` and used to encode compact seat state. A venue's seats
 * never change once created (only its name and address can), so a layout is built, hashed and compressed once
 * per process and venue, and its version is a hash of its content: equal content, equal ETag on every node.
 * Compression runs in libuv's thread pool (zlib's async API), not on the event loop.
 */
export class PublishedLayouts {
  private readonly byVenue = new Map<number, Promise<PublishedLayout>>();
  private readonly venueOfEvent = new Map<number, number>();
  private readonly seatsByVenue = new Map<number, Promise<ReadonlyMap<number, SeatView>>>();

  constructor(private readonly deps: PublishedLayoutsDeps) {}

  /** The layout of an event's venue. Callers check the event's visibility; this only needs it to exist. */
  async forEvent(eventId: number): Promise<PublishedLayout> {
    return this.forVenue(await this.venueOf(eventId));
  }

  /**
   * The seats of an event's venue by id (label, section, row, number, category), for answers that name seats a
   * command just moved, such as a new booking's, without reading them again. Kept apart from the published form:
   * built on first use from one read, without waiting for that form's compression.
   */
  async seatsOf(eventId: number): Promise<ReadonlyMap<number, SeatView>> {
    const venueId = await this.venueOf(eventId);
    let seats = this.seatsByVenue.get(venueId);
    if (!seats) {
      const built = this.deps.venues.layout(venueId).then(({ seats: all }) => new Map(all.map((s) => [s.id, s])));
      seats = built;
      this.remember(this.seatsByVenue, venueId, built, this.maxVenues);
      built.catch(() => {
        if (this.seatsByVenue.get(venueId) === built) this.seatsByVenue.delete(venueId);
      });
    }
    return seats;
  }

  private async venueOf(eventId: number): Promise<number> {
    let venueId = this.venueOfEvent.get(eventId);
    if (venueId === undefined) {
      const row = (await this.deps.db('events').where({ id: eventId }).first('venue_id')) as { venue_id: number } | undefined;
      if (!row) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
      // An event's venue is fixed at creation, so this mapping never goes stale (its entries are two numbers,
      // hence a larger bound than the venues').
      venueId = Number(row.venue_id);
      this.remember(this.venueOfEvent, eventId, venueId, this.maxVenues * 64);
    }
    return venueId;
  }

  /** The layout of a venue; concurrent callers share one build (and so see batches in the order they asked). */
  forVenue(venueId: number): Promise<PublishedLayout> {
    const cached = this.byVenue.get(venueId);
    if (cached) return cached;
    const built = this.build(venueId);
    this.remember(this.byVenue, venueId, built, this.maxVenues);
    // A failed build (database down) is not cached: the next caller tries again.
    built.catch(() => {
      if (this.byVenue.get(venueId) === built) this.byVenue.delete(venueId);
    });
    return built;
  }

  private async build(venueId: number): Promise<PublishedLayout> {
    const { sections, seats } = await this.deps.venues.layout(venueId);
    const version = createHash('sha256').update(JSON.stringify({ venueId, sections, seats })).digest('base64url').slice(0, 22);
    const body: EventLayout = { venueId, layoutVersion: version, sections, seats };
    const json = Buffer.from(JSON.stringify(body));
    const [gz, br] = await Promise.all([
      gzipAsync(json, { level: 9 }),
      brotliAsync(json, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: json.length } }),
    ]);
    return { venueId, version, json, gzip: gz, br, order: layoutOrder(version, seats.map((s) => s.id)) };
  }

  /** Inserts into a bounded map, dropping the oldest entry (insertion order) when full. */
  private remember<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
    map.delete(key);
    map.set(key, value);
    while (map.size > limit) map.delete(map.keys().next().value as K);
  }

  private get maxVenues(): number {
    return this.deps.maxVenues ?? 64;
  }
}
