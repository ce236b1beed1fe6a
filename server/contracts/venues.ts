/** Venue contracts: layouts as written (seats, sections) and as read, venues, and the event layout of compact seat state. */
import { z } from 'zod';
import { pageQuery } from '../shared/validation';

const label = z.string().trim().min(1).max(10);
const category = z.string().trim().min(1).max(40);

export const seatInput = z
  .object({
    row: label,
    number: z.number().int().min(0).max(100000),
    /** Display label; defaults to `<section> <row>-<number>`. Unique per venue. */
    label: z.string().trim().min(1).max(60).optional(),
    x: z.number().finite().min(-100000).max(100000),
    y: z.number().finite().min(-100000).max(100000),
    category,
    accessible: z.boolean().default(false),
  })
  .strict();

export const sectionInput = z
  .object({
    name: z.string().trim().min(1).max(80),
    kind: z.enum(['seated', 'ga']).default('seated'),
    /** General admission only: how many tickets the area holds. */
    capacity: z.number().int().min(1).max(1000000).optional(),
    /** General admission only: its price category. */
    category: category.optional(),
    seats: z.array(seatInput).max(100000).default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.kind === 'ga' && (!s.capacity || !s.category)) ctx.addIssue({ code: 'custom', message: 'a ga section needs capacity and category' });
    if (s.kind === 'ga' && s.seats.length) ctx.addIssue({ code: 'custom', message: 'a ga section has no seats' });
    if (s.kind === 'seated' && s.seats.length === 0) ctx.addIssue({ code: 'custom', message: 'a seated section needs at least one seat' });
  });

export const layoutInput = z
  .object({ sections: z.array(sectionInput).min(1, 'a layout needs at least one section').max(200) })
  .strict();

export type SeatInput = z.infer<typeof seatInput>;
export type SectionInput = z.infer<typeof sectionInput>;
export type LayoutInput = z.infer<typeof layoutInput>;

export const seatView = z.object({
  id: z.number(),
  sectionId: z.number(),
  section: z.string(),
  row: z.string(),
  number: z.number(),
  label: z.string(),
  x: z.number(),
  y: z.number(),
  category: z.string(),
  accessible: z.boolean(),
});
export type SeatView = z.infer<typeof seatView>;

export const sectionView = z.object({
  id: z.number(),
  name: z.string(),
  kind: z.enum(['seated', 'ga']),
  capacity: z.number().nullable(),
  category: z.string().nullable(),
});
export type SectionView = z.infer<typeof sectionView>;

export const venueView = z.object({
  id: z.number(),
  name: z.string(),
  address: z.string().nullable(),
  version: z.number(),
  seatCount: z.number(),
});
export type VenueView = z.infer<typeof venueView>;

export const layoutView = z.object({ sections: z.array(sectionView), seats: z.array(seatView) });
export type LayoutView = z.infer<typeof layoutView>;

/**
 * `GET /api/events/:id/layout`: the static part of a seat map. `layoutVersion` is also the response's ETag; compact
 * payloads name it so a client knows its seat order still fits. `seats` are in compact order: the seat at index i
 * of a compact payload is `seats[i]`.
 */
export const eventLayoutView = z.object({ venueId: z.number(), layoutVersion: z.string(), sections: z.array(sectionView), seats: z.array(seatView) });
export type EventLayout = z.infer<typeof eventLayoutView>;
/** One seat of a layout (the static part: geometry, category). */
export type LayoutSeat = SeatView;

// ---- writing venues (admins): sections given seat by seat or generated from a spec ----

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

/** A venue with its layout (the ETag carries its version). */
export const venueDetailView = venueView.extend({ layout: layoutView });
export const venuePage = z.object({ items: z.array(venueView), page: z.number(), limit: z.number(), total: z.number() });
