import type { Knex } from 'knex';
import type { HoldGate } from '../queue/gate';
import type { AuthUser } from '../shared/auth-user';
import type { Db } from '../db/knex';
import { withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { Notifier } from '../realtime/notifier';
import type { GaHoldView, GaLine } from '../contracts';
import { admitHold, assertOnSale, loadEventRules, newHoldRow } from '../inventory/hold-rules';
import { openHold } from '../inventory/operations';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { NotFoundError } from '../shared/errors';
import type { HoldExtras } from '../inventory/hold-extras';
import type { GaAreaView, GaHoldBody } from '../contracts/ga';
import { bookHoldTickets, cancelBookingTickets, closeHoldTickets, holdTickets, holdTicketTotals, linesView, ticketTotalsOf } from './store';

export interface GaDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  retry?: RetryOptions;
  /** Availability broadcasts run after the commit, with no caller to tell: their failures are logged here. */
  logger: Logger;
  /** The waiting room's admission check. */
  holdGate?: HoldGate;
}

/**
 * General admission: areas with a capacity and no seats. Tickets are held and booked through the same
 * holds and bookings as seats (a hold carries GA lines); the counters move only by a version-checked,
 * capacity-checked UPDATE (see store.ts). Implements HoldExtras so the seat core releases, expires and books
 * the tickets in its own transactions.
 */
export class GaService implements HoldExtras {
  constructor(private readonly deps: GaDeps) {}

  /** The event's GA areas with what is still available. */
  async availability(eventId: number): Promise<{ eventId: number; areas: GaAreaView[] }> {
    await loadEventRules(this.deps.db, eventId); // 404 for unknown and draft events
    return { eventId, areas: await this.areas(this.deps.db, eventId) };
  }

  private async areas(db: Knex, eventId: number): Promise<GaAreaView[]> {
    const rows = await db('event_ga_areas as a')
      .join('sections as s', 's.id', 'a.section_id')
      .where('a.event_id', eventId)
      .orderBy('s.sort_order')
      .select('a.section_id', 's.name', 's.category', 'a.capacity', 'a.held', 'a.booked', 'a.price_cents', 'a.version');
    return rows.map((r) => ({
      sectionId: r.section_id,
      name: r.name,
      category: r.category ?? null,
      capacity: r.capacity,
      available: r.capacity - r.held - r.booked,
      priceCents: r.price_cents,
      version: r.version,
    }));
  }

  /**
   * Holds `quantity` tickets of one area for `actor` in a new hold (book it with POST /api/bookings like any
   * hold). All or nothing: GA_SOLD_OUT when fewer are left.
   */
  async hold(actor: AuthUser, eventId: number, input: GaHoldBody): Promise<GaHoldView> {
    await this.deps.holdGate?.assertMayHold(actor, eventId);
    const hold = await withTransaction(
      this.deps.db,
      async (trx) => {
        const now = this.deps.clock.now();
        const event = await loadEventRules(trx, eventId);
        assertOnSale(event);
        await admitHold(trx, {
          actor,
          holderId: actor.id,
          event,
          adding: input.quantity,
          inThisHold: 0,
          heldByHolder: () => heldTicketsOf(trx, eventId, actor.id, now),
          unit: 'tickets',
        });
        const area = await trx('event_ga_areas').where({ event_id: eventId, section_id: input.sectionId }).first('section_id');
        if (!area) throw new NotFoundError('General admission area', 'GA_AREA_NOT_FOUND', { sectionId: input.sectionId });
        const hold = await openHold(trx, newHoldRow(event, actor.id, now));
        await holdTickets(trx, { holdId: hold.id, eventId, sectionId: input.sectionId, quantity: input.quantity });
        return hold;
      },
      this.deps.retry,
    );
    this.changed(eventId);
    const ga = await linesView(this.deps.db, 'hold_ga_lines', 'hold_id', hold.id);
    return {
      holdToken: hold.token,
      eventId,
      expiresAt: new Date(hold.expires_at).toISOString(),
      maxExpiresAt: new Date(hold.max_expires_at).toISOString(),
      seats: [],
      ga,
    };
  }

  closeHold(trx: Trx, holdId: number): Promise<boolean> {
    return closeHoldTickets(trx, holdId);
  }

  holdTotals(trx: Trx, holdId: number): Promise<{ count: number; totalCents: number }> {
    return holdTicketTotals(trx, holdId);
  }

  totalsOf(trx: Trx, holdIds: number[]): Promise<Map<number, { count: number; totalCents: number }>> {
    return ticketTotalsOf(trx, holdIds);
  }

  bookHold(trx: Trx, holdId: number, bookingId: number): Promise<boolean> {
    return bookHoldTickets(trx, holdId, bookingId);
  }

  cancelBooking(trx: Trx, bookingId: number): Promise<boolean> {
    return cancelBookingTickets(trx, bookingId);
  }

  bookingLines(db: Knex, bookingId: number): Promise<GaLine[]> {
    return linesView(db, 'booking_ga_lines', 'booking_id', bookingId);
  }

  /**
   * Broadcasts the event's current GA availability (after a commit). At most once, like every broadcast: a failed
   * read is logged and not retried (clients get the next change, or the availability on reconnect).
   */
  changed(eventId: number): void {
    if (!this.deps.notifier.gaChanged) return;
    this.areas(this.deps.db, eventId)
      .then((areas) => {
        if (areas.length) this.deps.notifier.gaChanged!({ eventId, areas: areas.map((a) => ({ sectionId: a.sectionId, available: a.available, version: a.version })) });
      })
      .catch((err: unknown) => this.deps.logger.error({ err, eventId }, 'GA availability broadcast failed'));
  }
}

/** GA tickets in the user's live holds for the event. */
async function heldTicketsOf(trx: Trx, eventId: number, userId: number, now: number): Promise<number> {
  const [{ n }] = (await trx('hold_ga_lines as l')
    .join('holds as h', 'h.id', 'l.hold_id')
    .where({ 'h.event_id': eventId, 'h.user_id': userId, 'h.status': 'active' })
    .andWhere('h.expires_at', '>', now)
    .sum({ n: 'l.quantity' })) as [{ n: number | string | null }];
  return Number(n ?? 0);
}
