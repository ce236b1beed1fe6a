import type { Db } from '../db/knex';
import { CURRENCY } from '../events/service';
import type { Clock } from '../shared/clock';
import { NotFoundError } from '../shared/errors';
import type { Counts, ReportView } from '../contracts/reports';

export interface ReportsDeps {
  db: Db;
  clock: Clock;
}

type Status = 'available' | 'held' | 'booked' | 'blocked';

const emptyCounts = (): Counts => ({ available: 0, held: 0, booked: 0, blocked: 0, total: 0, revenueCents: 0 });

/** Columns of the CSV export, one row per seat. */
export const CSV_COLUMNS = [
  'seat_id',
  'section',
  'row',
  'number',
  'label',
  'category',
  'accessible',
  'status',
  'price_cents',
  'booking_reference',
  'buyer_name',
  'buyer_email',
] as const;

/**
 * Event reports for staff: seats by status, category and section, and revenue (what confirmed bookings
 * were sold at, not today's price list); and a per-seat CSV export.
 */
export class ReportsService {
  constructor(private readonly deps: ReportsDeps) {}

  async report(eventId: number): Promise<ReportView> {
    const db = this.deps.db;
    const event = (await db('events').where({ id: eventId }).first('id', 'name', 'status')) as { id: number; name: string; status: string } | undefined;
    if (!event) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
    const [seatRows, revenueRows, bookingRows, gaRows] = await Promise.all([
      db('event_seats as es')
        .join('seats as s', 's.id', 'es.seat_id')
        .join('sections as sec', 'sec.id', 's.section_id')
        .where('es.event_id', eventId)
        .groupBy('s.category', 'sec.name', 'es.status')
        .select('s.category', 'sec.name as section', 'es.status')
        .count({ n: '*' }) as unknown as Promise<{ category: string; section: string; status: Status; n: number | string }[]>,
      // Active booking seats of confirmed bookings: `active` is 1 while the booking stands, NULL once cancelled.
      db('booking_seats as bs')
        .join('bookings as b', 'b.id', 'bs.booking_id')
        .join('seats as s', 's.id', 'bs.seat_id')
        .join('sections as sec', 'sec.id', 's.section_id')
        .where('bs.event_id', eventId)
        .where('b.status', 'confirmed')
        .whereNotNull('bs.active')
        .groupBy('s.category', 'sec.name')
        .select('s.category', 'sec.name as section')
        .sum({ cents: 'bs.price_cents' }) as unknown as Promise<{ category: string; section: string; cents: number | string | null }[]>,
      db('bookings').where({ event_id: eventId }).groupBy('status').select('status').count({ n: '*' }) as unknown as Promise<{ status: string; n: number | string }[]>,
      this.gaAreas(eventId),
    ]);
    const totals = emptyCounts();
    const byCategory = new Map<string, Counts>();
    const bySection = new Map<string, Counts>();
    const slot = (m: Map<string, Counts>, k: string) => {
      let c = m.get(k);
      if (!c) m.set(k, (c = emptyCounts()));
      return c;
    };
    for (const r of seatRows) {
      const n = Number(r.n);
      for (const c of [totals, slot(byCategory, r.category), slot(bySection, r.section)]) {
        c[r.status] += n;
        c.total += n;
      }
    }
    for (const r of revenueRows) {
      const cents = Number(r.cents ?? 0);
      for (const c of [totals, slot(byCategory, r.category), slot(bySection, r.section)]) c.revenueCents += cents;
    }
    const bookings = { confirmed: 0, cancelled: 0 };
    for (const r of bookingRows) if (r.status === 'confirmed' || r.status === 'cancelled') bookings[r.status] = Number(r.n);
    return {
      eventId,
      eventName: event.name,
      status: event.status,
      currency: CURRENCY,
      totals,
      byCategory: [...byCategory.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([category, c]) => ({ category, ...c })),
      bySection: [...bySection.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([section, c]) => ({ section, ...c })),
      generalAdmission: gaRows,
      revenueCents: totals.revenueCents + gaRows.reduce((n, a) => n + a.revenueCents, 0),
      bookings,
      generatedAt: new Date(this.deps.clock.now()).toISOString(),
    };
  }

  /** General-admission areas of the event with their counters and the revenue of active booked tickets. */
  private async gaAreas(eventId: number): Promise<ReportView['generalAdmission']> {
    const db = this.deps.db;
    const [areas, revenue] = await Promise.all([
      db('event_ga_areas as a')
        .join('sections as s', 's.id', 'a.section_id')
        .where('a.event_id', eventId)
        .orderBy('s.name')
        .select('a.section_id', 's.name', 's.category', 'a.capacity', 'a.held', 'a.booked') as Promise<
        { section_id: number; name: string; category: string | null; capacity: number; held: number; booked: number }[]
      >,
      db('booking_ga_lines as l')
        .join('bookings as b', 'b.id', 'l.booking_id')
        .where('l.event_id', eventId)
        .where('b.status', 'confirmed')
        .whereNotNull('l.active')
        .groupBy('l.section_id')
        .select('l.section_id', db.raw('SUM(l.quantity * l.price_cents) as cents')) as unknown as Promise<{ section_id: number; cents: number | string | null }[]>,
    ]);
    const cents = new Map(revenue.map((r) => [r.section_id, Number(r.cents ?? 0)]));
    return areas.map((a) => ({
      section: a.name,
      category: a.category,
      capacity: a.capacity,
      held: a.held,
      booked: a.booked,
      available: a.capacity - a.held - a.booked,
      revenueCents: cents.get(a.section_id) ?? 0,
    }));
  }

  /** One CSV row per seat with its status, price and (for booked seats) the booking and buyer. */
  async csv(eventId: number): Promise<string> {
    const db = this.deps.db;
    const event = await db('events').where({ id: eventId }).first('id');
    if (!event) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
    const rows = await db('event_seats as es')
      .join('seats as s', 's.id', 'es.seat_id')
      .join('sections as sec', 'sec.id', 's.section_id')
      .leftJoin('bookings as b', function () {
        this.on('b.id', '=', 'es.booking_id').andOnVal('es.status', '=', 'booked');
      })
      .leftJoin('users as u', 'u.id', 'b.user_id')
      .where('es.event_id', eventId)
      .orderBy([{ column: 'sec.sort_order' }, { column: 's.row_label' }, { column: 's.number' }, { column: 's.id' }])
      .select(
        'es.seat_id',
        'sec.name as section',
        's.row_label',
        's.number',
        's.label',
        's.category',
        's.accessible',
        'es.status',
        'es.price_cents',
        'b.reference',
        'b.customer_name',
        'b.customer_email',
        'u.name as user_name',
        'u.email as user_email',
      );
    const lines = [CSV_COLUMNS.join(',')];
    for (const r of rows) {
      const booked = r.status === 'booked' && r.reference;
      lines.push(
        [
          r.seat_id,
          r.section,
          r.row_label,
          r.number,
          r.label,
          r.category,
          r.accessible ? 'yes' : 'no',
          r.status,
          r.price_cents,
          booked ? r.reference : '',
          booked ? (r.customer_name ?? r.user_name ?? '') : '',
          booked ? (r.customer_name ? (r.customer_email ?? '') : (r.user_email ?? '')) : '',
        ]
          .map(csvCell)
          .join(','),
      );
    }
    return lines.join('\r\n') + '\r\n';
  }
}

/**
 * RFC 4180 quoting, plus a leading apostrophe on text that a spreadsheet would run as a formula
 * (names and labels come from users: "=HYPERLINK(...)" must stay text).
 */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
