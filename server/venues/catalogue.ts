import type { Db } from '../db/knex';
import { withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { CreateVenueBody, LayoutInput, LayoutView, ListVenuesQuery, SectionInput, UpdateVenueBody, VenueView } from '../contracts/venues';
import type { Clock } from '../shared/clock';
import { NotFoundError, PreconditionFailedError, UnprocessableError } from '../shared/errors';
import type { Page } from '../shared/validation';
import { curvedSection, rectangularSection } from './layout-generator';
import type { VenuesService } from './service';

export interface VenueCatalogueDeps {
  db: Db;
  clock: Clock;
  venues: VenuesService;
  retry?: RetryOptions;
}

/** Largest layout one venue may have (seats over all sections). */
export const MAX_VENUE_SEATS = 100_000;

const VENUE_SORTS: Record<ListVenuesQuery['sort'], [string, 'asc' | 'desc']> = {
  name: ['name', 'asc'],
  '-name': ['name', 'desc'],
  id: ['id', 'asc'],
  '-id': ['id', 'desc'],
  createdAt: ['created_at', 'asc'],
  '-createdAt': ['created_at', 'desc'],
};

/**
 * The venue catalogue as admins write it: venues from generated or imported layouts, listed, read and renamed,
 * with writes guarded by the row's version (a stale If-Match gets 412 and changes nothing).
 */
export class VenueCatalogue {
  constructor(private readonly deps: VenueCatalogueDeps) {}

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
}
