import type { Knex } from 'knex';
import { isMysql } from '../db/knex';
import { RetryableConflict, type Trx } from '../db/transaction';
import type { GaLine } from '../contracts';
import { ConflictError, NotFoundError } from '../shared/errors';

/** One general-admission area of one event. */
export interface GaAreaRow {
  event_id: number;
  section_id: number;
  capacity: number;
  held: number;
  booked: number;
  version: number;
  price_cents: number;
}

/**
 * Reads an area for a change. On MySQL the read locks the row (FOR UPDATE) so concurrent changes queue on
 * it instead of failing their version check and retrying; on SQLite writers are serialised anyway.
 */
async function readAreaForChange(trx: Trx, eventId: number, sectionId: number): Promise<GaAreaRow | undefined> {
  const q = trx('event_ga_areas').where({ event_id: eventId, section_id: sectionId });
  if (isMysql(trx)) q.forUpdate();
  return (await q.first()) as GaAreaRow | undefined;
}

/**
 * Moves tickets between free, held and booked with a version compare-and-set that also re-checks the
 * capacity, so an area can never be oversold whatever the read saw. Throws GA_SOLD_OUT when the area has
 * fewer tickets free than asked for.
 */
export async function adjustArea(trx: Trx, eventId: number, sectionId: number, delta: { held: number; booked: number }): Promise<GaAreaRow> {
  const area = await readAreaForChange(trx, eventId, sectionId);
  if (!area) throw new NotFoundError('General admission area', 'GA_AREA_NOT_FOUND', { sectionId });
  const grow = delta.held + delta.booked;
  const available = area.capacity - area.held - area.booked;
  if (grow > 0 && available < grow) {
    throw new ConflictError('GA_SOLD_OUT', `Only ${available} ticket(s) left in this area`, { sectionId, available });
  }
  const changed = await trx('event_ga_areas')
    .where({ event_id: eventId, section_id: sectionId, version: area.version })
    .andWhereRaw('capacity - held - booked >= ?', [grow])
    .andWhere('held', '>=', -delta.held)
    .andWhere('booked', '>=', -delta.booked)
    .update({
      held: trx.raw('held + ?', [delta.held]),
      booked: trx.raw('booked + ?', [delta.booked]),
      version: trx.raw('version + 1'),
    });
  if (changed !== 1) throw new RetryableConflict('ga area version moved');
  return { ...area, held: area.held + delta.held, booked: area.booked + delta.booked, version: area.version + 1 };
}

/** Adds `quantity` tickets of an area to a hold (a new line, or more on the existing one). */
export async function holdTickets(trx: Trx, input: { holdId: number; eventId: number; sectionId: number; quantity: number }): Promise<GaAreaRow> {
  const area = await adjustArea(trx, input.eventId, input.sectionId, { held: input.quantity, booked: 0 });
  const bumped = await trx('hold_ga_lines')
    .where({ hold_id: input.holdId, section_id: input.sectionId })
    .update({ quantity: trx.raw('quantity + ?', [input.quantity]) });
  if (bumped === 0) {
    await trx('hold_ga_lines').insert({
      hold_id: input.holdId,
      event_id: input.eventId,
      section_id: input.sectionId,
      quantity: input.quantity,
      price_cents: area.price_cents,
    });
  }
  return area;
}

interface LineRow {
  id: number;
  event_id: number;
  section_id: number;
  quantity: number;
  price_cents: number;
}

const linesOfHold = (trx: Knex, holdId: number) =>
  trx('hold_ga_lines').where({ hold_id: holdId }).orderBy('section_id').select('id', 'event_id', 'section_id', 'quantity', 'price_cents') as Promise<LineRow[]>;

/** Gives a released or expired hold's tickets back to their areas. */
export async function closeHoldTickets(trx: Trx, holdId: number): Promise<boolean> {
  const lines = await linesOfHold(trx, holdId);
  for (const l of lines) await adjustArea(trx, l.event_id, l.section_id, { held: -l.quantity, booked: 0 });
  return lines.length > 0;
}

export async function holdTicketTotals(trx: Trx, holdId: number): Promise<{ count: number; totalCents: number }> {
  const lines = await linesOfHold(trx, holdId);
  return { count: lines.reduce((n, l) => n + l.quantity, 0), totalCents: lines.reduce((n, l) => n + l.quantity * l.price_cents, 0) };
}

/** Ticket count and total per hold, for the holds among `holdIds` that carry tickets. */
export async function ticketTotalsOf(trx: Knex, holdIds: number[]): Promise<Map<number, { count: number; totalCents: number }>> {
  const rows = (await trx('hold_ga_lines').whereIn('hold_id', holdIds).select('hold_id', 'quantity', 'price_cents')) as {
    hold_id: number;
    quantity: number;
    price_cents: number;
  }[];
  const out = new Map<number, { count: number; totalCents: number }>();
  for (const r of rows) {
    const t = out.get(r.hold_id) ?? { count: 0, totalCents: 0 };
    t.count += r.quantity;
    t.totalCents += r.quantity * r.price_cents;
    out.set(r.hold_id, t);
  }
  return out;
}

/** Turns a hold's held tickets into booked ones, recorded as booking lines. */
export async function bookHoldTickets(trx: Trx, holdId: number, bookingId: number): Promise<boolean> {
  const lines = await linesOfHold(trx, holdId);
  for (const l of lines) {
    await adjustArea(trx, l.event_id, l.section_id, { held: -l.quantity, booked: l.quantity });
    await trx('booking_ga_lines').insert({
      booking_id: bookingId,
      event_id: l.event_id,
      section_id: l.section_id,
      quantity: l.quantity,
      price_cents: l.price_cents,
      active: true,
    });
  }
  return lines.length > 0;
}

/** Gives a cancelled booking's tickets back to their areas. */
export async function cancelBookingTickets(trx: Trx, bookingId: number): Promise<boolean> {
  const lines = (await trx('booking_ga_lines').where({ booking_id: bookingId, active: true }).orderBy('section_id')) as LineRow[];
  for (const l of lines) await adjustArea(trx, l.event_id, l.section_id, { held: 0, booked: -l.quantity });
  if (lines.length) await trx('booking_ga_lines').where({ booking_id: bookingId }).update({ active: null });
  return lines.length > 0;
}

export async function linesView(db: Knex, table: 'hold_ga_lines' | 'booking_ga_lines', column: 'hold_id' | 'booking_id', id: number): Promise<GaLine[]> {
  const rows = await db(`${table} as l`).join('sections as s', 's.id', 'l.section_id').where(`l.${column}`, id).orderBy('l.section_id').select('l.section_id', 's.name', 'l.quantity', 'l.price_cents');
  return rows.map((r: { section_id: number; name: string; quantity: number; price_cents: number }) => ({
    sectionId: r.section_id,
    section: r.name,
    quantity: r.quantity,
    priceCents: r.price_cents,
  }));
}
