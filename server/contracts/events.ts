/** Event contracts: listing and detail views, creation input, and the `event:status` notice. */
import { z } from 'zod';
import { idParam, pageQuery } from '../shared/validation';
import { layoutView, venueView } from './venues';

export const EVENT_STATUSES = ['draft', 'on_sale', 'closed', 'cancelled'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export const listEventsQuery = z
  .object({
    ...pageQuery,
    status: z.enum(EVENT_STATUSES).optional(),
    venueId: z.coerce.number().int().positive().optional(),
    q: z.string().trim().min(1).max(100).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    sort: z.enum(['startsAt', '-startsAt', 'name', '-name', 'id', '-id']).default('startsAt'),
  })
  .strict();
export type ListEventsQuery = z.infer<typeof listEventsQuery>;

export const priceView = z.object({ category: z.string(), priceCents: z.number().int() });

export const eventView = z.object({
  id: z.number(),
  venueId: z.number(),
  name: z.string(),
  description: z.string().nullable(),
  startsAt: z.string(),
  endsAt: z.string().nullable(),
  status: z.enum(EVENT_STATUSES),
  holdTtlSeconds: z.number(),
  maxHoldLifeSeconds: z.number(),
  maxSeatsPerOrder: z.number(),
  maxSeatsPerUser: z.number(),
  currency: z.string(),
  prices: z.array(priceView),
  version: z.number(),
});
export type EventView = z.infer<typeof eventView>;

export const eventPage = z.object({ items: z.array(eventView), page: z.number(), limit: z.number(), total: z.number() });

/** `layout` is absent with `?layout=false` (the client has it from `GET /api/events/:id/layout`). */
export const eventDetailView = eventView.extend({ venue: venueView.extend({ layout: layoutView.optional() }) });
export type EventDetailView = z.infer<typeof eventDetailView>;

export const createEventInput = z
  .object({
    venueId: z.number().int().positive(),
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5000).nullable().optional(),
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }).nullable().optional(),
    status: z.enum(['draft', 'on_sale']).default('draft'),
    holdTtlSeconds: z.number().int().min(5).max(3600).default(600),
    maxHoldLifeSeconds: z.number().int().min(5).max(4 * 3600).default(1800),
    maxSeatsPerOrder: z.number().int().min(1).max(100).default(10),
    maxSeatsPerUser: z.number().int().min(1).max(1000).default(10),
    prices: z
      .array(z.object({ category: z.string().trim().min(1).max(40), priceCents: z.number().int().min(0).max(100_000_000) }).strict())
      .min(1)
      .max(50),
  })
  .strict();
export type CreateEventInput = z.infer<typeof createEventInput>;
/** `event:status`: the event's sale status changed (on sale, closed, cancelled); sent to everyone watching it. */
export const eventStatusNotice = z.object({ eventId: z.number(), status: z.enum(EVENT_STATUSES), reason: z.string().optional() });
export type EventStatusNotice = z.infer<typeof eventStatusNotice>;

// ---- the event lifecycle (admins): change, publish, close, cancel ----

const category = z.string().trim().min(1).max(40);
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

/** `/admin/events/:id…` */
export const eventParams = z.object({ id: idParam }).strict();
/** A cancelled event, with what its cancellation undid. */
export const cancelledEventView = eventView.extend({ cancelledBookings: z.number(), releasedHolds: z.number() });
