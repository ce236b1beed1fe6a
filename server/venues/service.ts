import type { Db } from '../db/knex';
import { insertInChunks } from '../db/chunked-insert';
import { withTransaction } from '../db/transaction';
import type { Clock } from '../shared/clock';
import { NotFoundError, UnprocessableError } from '../shared/errors';
import type { LayoutInput, LayoutView, SectionView, SeatView, VenueView } from '../contracts/venues';

export interface VenuesDeps {
  db: Db;
  clock: Clock;
}

/** Default display label of a seat: "Stalls A-12". */
export function defaultSeatLabel(section: string, row: string, number: number): string {
  return `${section} ${row}-${number}`;
}

/** Venues and their seat layouts. */
export class VenuesService {
  constructor(private readonly deps: VenuesDeps) {}

  /** Creates a venue with its whole layout in one transaction; duplicate labels are rejected up front. */
  async create(input: { name: string; address?: string | null; layout: LayoutInput }): Promise<VenueView> {
    const duplicates = findDuplicateLabels(input.layout);
    if (duplicates.length) {
      throw new UnprocessableError('DUPLICATE_SEAT_LABELS', 'Seat labels must be unique within a venue', { labels: duplicates.slice(0, 50) });
    }
    const now = this.deps.clock.now();
    const venueId = await withTransaction(this.deps.db, async (trx) => {
      const [id] = await trx('venues').insert({ name: input.name, address: input.address ?? null, version: 1, created_at: now, updated_at: now });
      const venueId = Number(id);
      let order = 0;
      for (const section of input.layout.sections) {
        const [sid] = await trx('sections').insert({
          venue_id: venueId,
          name: section.name,
          kind: section.kind,
          capacity: section.kind === 'ga' ? section.capacity : null,
          category: section.kind === 'ga' ? section.category : null,
          sort_order: order++,
        });
        const rows = section.seats.map((s) => ({
          venue_id: venueId,
          section_id: Number(sid),
          row_label: s.row,
          number: s.number,
          label: s.label ?? defaultSeatLabel(section.name, s.row, s.number),
          x: s.x,
          y: s.y,
          category: s.category,
          accessible: s.accessible,
        }));
        await insertInChunks(trx, 'seats', rows);
      }
      return venueId;
    });
    return this.get(venueId);
  }

  async get(venueId: number): Promise<VenueView> {
    const row = await this.deps.db('venues').where({ id: venueId }).first();
    if (!row) throw new NotFoundError('Venue', 'VENUE_NOT_FOUND');
    const [{ n }] = (await this.deps.db('seats').where({ venue_id: venueId }).count({ n: '*' })) as [{ n: number | string }];
    return { id: row.id, name: row.name, address: row.address ?? null, version: row.version, seatCount: Number(n) };
  }

  async layout(venueId: number): Promise<LayoutView> {
    const sections = (await this.deps.db('sections').where({ venue_id: venueId }).orderBy('sort_order')) as {
      id: number;
      name: string;
      kind: 'seated' | 'ga';
      capacity: number | null;
      category: string | null;
    }[];
    const names = new Map(sections.map((s) => [s.id, s.name]));
    const seats = await this.deps.db('seats').where({ venue_id: venueId }).orderBy('id');
    return {
      sections: sections.map((s): SectionView => ({ id: s.id, name: s.name, kind: s.kind, capacity: s.capacity, category: s.category })),
      seats: seats.map(
        (s): SeatView => ({
          id: s.id,
          sectionId: s.section_id,
          section: names.get(s.section_id) ?? '',
          row: s.row_label,
          number: s.number,
          label: s.label,
          x: s.x,
          y: s.y,
          category: s.category,
          accessible: !!s.accessible,
        }),
      ),
    };
  }
}

export function findDuplicateLabels(layout: LayoutInput): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const section of layout.sections) {
    for (const s of section.seats) {
      const label = s.label ?? defaultSeatLabel(section.name, s.row, s.number);
      if (seen.has(label)) dup.add(label);
      seen.add(label);
    }
  }
  return [...dup];
}
