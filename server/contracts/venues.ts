/** Venue contracts: layouts as written (seats, sections) and as read, venues, and the event layout of compact seat state. */
import { z } from 'zod';

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
