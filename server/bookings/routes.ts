import { z } from 'zod';
import type { ApiRouter } from '../http/route';
import { ValidationError } from '../shared/errors';
import { idParam, issuesToDetails } from '../shared/validation';
import { bookingPage, bookingView, confirmBody, idempotencyKey, listBookingsQuery } from '../contracts/bookings';
import type { BookingsService } from './service';

const bookingParams = z.object({ id: idParam }).strict();

/** POST/GET /bookings, GET/DELETE /bookings/:id. */
export function registerBookingsRoutes(api: ApiRouter, bookings: BookingsService): void {
  api.route(
    {
      method: 'post',
      path: '/bookings',
      summary: 'Book the seats of a hold (idempotent by the Idempotency-Key header)',
      tag: 'bookings',
      access: 'user',
      body: confirmBody,
      headers: { 'Idempotency-Key': { required: true, description: '8-100 printable characters; a repeat returns the same booking' } },
      responses: {
        201: { description: 'Booked', schema: bookingView },
        200: { description: 'A repeat of an earlier request: the same booking (Idempotent-Replayed: true)', schema: bookingView },
        403: { description: "FORBIDDEN: the hold is someone else's" },
        404: { description: 'HOLD_NOT_FOUND' },
        409: { description: 'HOLD_EXPIRED, HOLD_RELEASED, HOLD_ALREADY_BOOKED, HOLD_EMPTY, EVENT_NOT_ON_SALE' },
        422: { description: 'IDEMPOTENCY_KEY_REUSED' },
      },
    },
    async ({ body, user, header }) => {
      const key = idempotencyKey.safeParse(header('Idempotency-Key'));
      if (!key.success) throw new ValidationError('Invalid Idempotency-Key header', issuesToDetails(key.error).map((d) => ({ ...d, path: 'Idempotency-Key' })));
      const { booking, replayed } = await bookings.confirm(user, body.holdToken, key.data);
      return { status: replayed ? 200 : 201, body: booking, headers: replayed ? { 'Idempotent-Replayed': 'true' } : undefined };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/bookings',
      summary: 'Your bookings',
      tag: 'bookings',
      access: 'user',
      query: listBookingsQuery,
      responses: { 200: { description: 'A page of bookings', schema: bookingPage } },
    },
    async ({ query, user }) => ({ body: await bookings.list(user, query, { all: false }) }),
  );

  api.route(
    {
      method: 'get',
      path: '/bookings/:id',
      summary: 'One of your bookings',
      tag: 'bookings',
      access: 'user',
      params: bookingParams,
      responses: { 200: { description: 'The booking', schema: bookingView }, 404: { description: 'BOOKING_NOT_FOUND' } },
    },
    async ({ params, user }) => ({ body: await bookings.get(user, params.id) }),
  );

  api.route(
    {
      method: 'delete',
      path: '/bookings/:id',
      summary: 'Cancel a booking (before the event starts)',
      tag: 'bookings',
      access: 'user',
      params: bookingParams,
      responses: {
        200: { description: 'Cancelled', schema: bookingView },
        403: { description: 'Event already started' },
        404: { description: "BOOKING_NOT_FOUND (also: the booking is someone else's)" },
        409: { description: 'BOOKING_ALREADY_CANCELLED' },
      },
    },
    async ({ params, user }) => ({ body: await bookings.cancel(user, params.id) }),
  );
}
