/** Booking contracts: confirm a hold (REST and `booking:confirm`), list bookings, the booking view and its notice. */
import { z } from 'zod';
import { pageQuery } from '../shared/validation';
import { gaLineView } from './ga';
import { holdToken } from './seats';

/** Client-chosen idempotency key: printable, bounded. */
export const idempotencyKey = z.string().min(8, 'must be at least 8 characters').max(100).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII');

export const confirmBody = z.object({ holdToken }).strict();
export const socketConfirmPayload = z.object({ holdToken, idempotencyKey }).strict();

export const listBookingsQuery = z
  .object({
    ...pageQuery,
    eventId: z.coerce.number().int().positive().optional(),
    status: z.enum(['confirmed', 'cancelled']).optional(),
    sort: z.enum(['createdAt', '-createdAt']).default('-createdAt'),
  })
  .strict();
export type ListBookingsQuery = z.infer<typeof listBookingsQuery>;

export const bookingSeatView = z.object({
  seatId: z.number(),
  label: z.string(),
  section: z.string(),
  row: z.string(),
  number: z.number(),
  category: z.string(),
  priceCents: z.number(),
});

export const bookingView = z.object({
  id: z.number(),
  reference: z.string(),
  eventId: z.number(),
  status: z.enum(['confirmed', 'cancelled']),
  totalCents: z.number(),
  currency: z.string(),
  seats: z.array(bookingSeatView),
  customer: z.object({ name: z.string(), email: z.string().nullable() }).optional(),
  createdAt: z.string(),
  cancelledAt: z.string().optional(),
  /** General-admission tickets on this booking (absent or empty for a seats-only booking). */
  ga: z.array(gaLineView).optional(),
});

export const bookingPage = z.object({ items: z.array(bookingView), page: z.number(), limit: z.number(), total: z.number() });
export type BookingSeatView = z.infer<typeof bookingSeatView>;
export type BookingView = z.infer<typeof bookingView>;
export type BookingConfirmPayload = z.input<typeof socketConfirmPayload>;

/** `booking:cancelled`, to the booker's own sockets: staff or an event cancellation cancelled one of their bookings. */
export const bookingCancelledNotice = z.object({ eventId: z.number(), bookingId: z.number(), reference: z.string(), reason: z.string() });
export type BookingCancelledNotice = z.infer<typeof bookingCancelledNotice>;
