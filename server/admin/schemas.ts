import { z } from 'zod';
import { createEventInput } from '../contracts/events';
import { holdToken, seatIdList, staffSeatView } from '../contracts/seats';
import { idParam, pageQuery } from '../shared/validation';
import { SEAT_CHANGE_REASONS } from '../inventory/seat-store';
import { sectionInput } from '../contracts/venues';

const category = z.string().trim().min(1).max(40);
const sectionName = z.string().trim().min(1).max(80);

/** A rectangular block generated server-side (see venues/layout-generator.ts). */
export const rectangularSectionSpec = z
  .object({
    kind: z.literal('rectangular'),
    name: sectionName,
    rows: z.number().int().min(1).max(200),
    seatsPerRow: z.number().int().min(1).max(500),
    /** One category for every row, or one per row (front rows first; the last repeats). */
    category: z.union([category, z.array(category).min(1).max(200)]),
    originX: z.number().finite().min(-100000).max(100000).optional(),
    originY: z.number().finite().min(-100000).max(100000).optional(),
    spacing: z.number().finite().min(0.1).max(100).optional(),
    /**
     * Rows whose two END seats (numbers 1 and seatsPerRow) are wheelchair spaces; the other seats of the row
     * are not. Rows count from 0: 0 is row A, the front. An index past the last row is refused.
     */
    accessibleRows: z.array(z.number().int().min(0).max(199)).max(200).optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const outside = (spec.accessibleRows ?? []).filter((r) => r >= spec.rows);
    if (outside.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['accessibleRows'],
        message: `accessibleRows counts rows from 0 (0 = row A, the front); this section has rows 0..${spec.rows - 1}, not ${outside.join(', ')}`,
      });
    }
  });

/** Rows on concentric arcs around the stage. */
export const curvedSectionSpec = z
  .object({
    kind: z.literal('curved'),
    name: sectionName,
    rows: z.number().int().min(1).max(100),
    firstRowSeats: z.number().int().min(1).max(300),
    seatsAddedPerRow: z.number().int().min(0).max(20).optional(),
    category: z.union([category, z.array(category).min(1).max(100)]),
    centerX: z.number().finite().min(-100000).max(100000).optional(),
    centerY: z.number().finite().min(-100000).max(100000).optional(),
    radius: z.number().finite().min(1).max(10000).optional(),
    rowSpacing: z.number().finite().min(0.1).max(100).optional(),
    arcDegrees: z.number().finite().min(10).max(360).optional(),
  })
  .strict();

/** A section given seat by seat (an imported layout), or generated from a spec. */
export const venueSectionInput = z.union([rectangularSectionSpec, curvedSectionSpec, sectionInput]);

export const createVenueBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    address: z.string().trim().max(300).nullable().optional(),
    /** Empty layouts are refused by the service with EMPTY_LAYOUT (a clearer answer than a schema error). */
    sections: z.array(venueSectionInput).max(200),
  })
  .strict();
export type CreateVenueBody = z.infer<typeof createVenueBody>;

export const updateVenueBody = z
  .object({ name: z.string().trim().min(1).max(200).optional(), address: z.string().trim().max(300).nullable().optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'change at least one field');
export type UpdateVenueBody = z.infer<typeof updateVenueBody>;

export const listVenuesQuery = z
  .object({
    ...pageQuery,
    q: z.string().trim().min(1).max(100).optional(),
    sort: z.enum(['name', '-name', 'id', '-id', 'createdAt', '-createdAt']).default('id'),
  })
  .strict();
export type ListVenuesQuery = z.infer<typeof listVenuesQuery>;

export const createAdminEventBody = createEventInput;

const priceList = z
  .array(z.object({ category, priceCents: z.number().int().min(0).max(100_000_000) }).strict())
  .min(1)
  .max(50);

/** Fields an admin may change; `status` moves draft → on_sale → closed (and closed → on_sale). Cancel has its own route. */
export const updateEventBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(5000).nullable().optional(),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).nullable().optional(),
    status: z.enum(['draft', 'on_sale', 'closed']).optional(),
    holdTtlSeconds: z.number().int().min(5).max(3600).optional(),
    maxHoldLifeSeconds: z.number().int().min(5).max(4 * 3600).optional(),
    maxSeatsPerOrder: z.number().int().min(1).max(100).optional(),
    maxSeatsPerUser: z.number().int().min(1).max(1000).optional(),
    /** Replaces the price of the listed categories; seats already booked keep the price they were sold at. */
    prices: priceList.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'change at least one field');
export type UpdateEventBody = z.infer<typeof updateEventBody>;

export const cancelEventBody = z.object({ reason: z.string().trim().min(1).max(200).optional() }).strict();

export const BLOCK_REASONS = ['house', 'broken', 'other'] as const;
export const blockBody = z.object({ seatIds: seatIdList, reason: z.enum(BLOCK_REASONS).default('other') }).strict();
export const unblockBody = z.object({ seatIds: seatIdList }).strict();

export const walkInCustomer = z
  .object({ name: z.string().trim().min(1).max(120), email: z.email().max(254).toLowerCase().nullable().optional() })
  .strict();
export const boxOfficeHoldBody = z.object({ seatIds: seatIdList, customer: walkInCustomer }).strict();
export const forceReleaseBody = z.object({ seatIds: seatIdList.optional() }).strict();
export const reseatBody = z.object({ seatIds: seatIdList }).strict();

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

export const eventParams = z.object({ id: idParam }).strict();
export const eventSeatParams = z.object({ id: idParam, seatId: idParam }).strict();
export const tokenParams = z.object({ token: holdToken }).strict();

export const staffSnapshotView = z.object({ eventId: z.number(), cursor: z.number(), seats: z.array(staffSeatView) });

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
