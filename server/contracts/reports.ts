/** Report contracts (staff): the seat change log with actors, a seat's history, and the event report. */
import { z } from 'zod';
import { idParam } from '../shared/validation';

/**
 * Every reason a seat_changes row can carry (what the inventory operations and their callers write). The
 * change log's `reason` filter accepts exactly these, so a typo answers 400 instead of an empty page.
 */
export const SEAT_CHANGE_REASONS = [
  'hold',
  'hold_best',
  'box_office_hold',
  'extend',
  'book',
  'box_office_book',
  'release',
  'force_release',
  'expire',
  'block_house',
  'block_broken',
  'block_other',
  'unblock',
  'reseat_out',
  'reseat_in',
  'cancel',
  'staff_cancel',
  'event_cancelled',
  'waitlist_offer',
  'waitlist_decline',
] as const;

export const changesQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    /** Page back: only changes with an id below this one. */
    before: z.coerce.number().int().positive().optional(),
    seatId: z.coerce.number().int().positive().max(2 ** 31 - 1).optional(),
    reason: z.enum(SEAT_CHANGE_REASONS).optional(),
    actorId: z.coerce.number().int().positive().max(2 ** 31 - 1).optional(),
    order: z.enum(['newest', 'oldest']).default('newest'),
  })
  .strict();
export type ChangesQuery = z.infer<typeof changesQuery>;

export const reportQuery = z.object({ format: z.enum(['json', 'csv']).default('json') }).strict();

/** `/admin/events/:id/seats/:seatId/history` */
export const eventSeatParams = z.object({ id: idParam, seatId: idParam }).strict();

export const changeView = z.object({
  id: z.number(),
  seatId: z.number(),
  label: z.string(),
  from: z.string(),
  to: z.string(),
  version: z.number(),
  actor: z.object({ id: z.number(), name: z.string(), role: z.string() }).nullable(),
  reason: z.string(),
  holdId: z.number().nullable(),
  bookingId: z.number().nullable(),
  at: z.string(),
});
export type ChangeView = z.infer<typeof changeView>;
export const changesPage = z.object({ items: z.array(changeView), nextBefore: z.number().nullable() });

const countsView = z.object({ available: z.number(), held: z.number(), booked: z.number(), blocked: z.number(), total: z.number(), revenueCents: z.number() });
export const reportView = z.object({
  eventId: z.number(),
  eventName: z.string(),
  status: z.string(),
  currency: z.string(),
  totals: countsView,
  byCategory: z.array(countsView.extend({ category: z.string() })),
  bySection: z.array(countsView.extend({ section: z.string() })),
  /** General-admission areas (tickets, not seats): counters and revenue per area. */
  generalAdmission: z.array(
    z.object({ section: z.string(), category: z.string().nullable(), capacity: z.number(), held: z.number(), booked: z.number(), available: z.number(), revenueCents: z.number() }),
  ),
  /** Seat revenue (totals.revenueCents) plus general-admission revenue. */
  revenueCents: z.number(),
  bookings: z.object({ confirmed: z.number(), cancelled: z.number() }),
  generatedAt: z.string(),
});
export type ReportView = z.infer<typeof reportView>;
export type Counts = z.infer<typeof countsView>;
