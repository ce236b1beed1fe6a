import { bookingPage, bookingView, idempotencyKey, listBookingsQuery } from '../contracts/bookings';
import { blockBody, bookingParams, boxOfficeHoldBody, forceReleaseBody, reseatBody, staffSnapshotView, tokenParams, unblockBody } from '../contracts/box-office';
import { eventParams } from '../contracts/events';
import { holdView, releaseView, seatsView } from '../contracts/seats';
import type { BookingsService } from '../bookings/service';
import type { ApiRouter } from '../http/route';
import type { SeatsService } from '../seats/service';
import { STAFF } from '../shared/auth-user';
import { ValidationError } from '../shared/errors';
import { issuesToDetails } from '../shared/validation';
import type { BoxOfficeService } from './service';
import type { StaffView } from './staff-view';

const TAG = 'admin';

export interface BoxOfficeRouteServices {
  boxOffice: BoxOfficeService;
  staffView: StaffView;
  seats: SeatsService;
  bookings: BookingsService;
}

/**
 * `/api/admin/…` for the box office (staff: admins and box-office clerks): the live view with holders, walk-in holds
 * and bookings, force release, blocking seats, all bookings, reseating and cancelling them.
 */
export function registerBoxOfficeRoutes(api: ApiRouter, s: BoxOfficeRouteServices): void {
  api.route(
    {
      method: 'get',
      path: '/admin/events/:id/seats',
      summary: 'Box-office snapshot: every seat with who holds or booked it',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      responses: { 200: { description: 'Snapshot with holders', schema: staffSnapshotView }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params }) => ({ body: await s.staffView.staffSnapshot(params.id) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/events/:id/holds',
      summary: 'Hold seats for a walk-in customer (name, optional email; no account)',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      body: boxOfficeHoldBody,
      responses: {
        201: { description: 'Held', schema: holdView },
        404: { description: 'EVENT_NOT_FOUND, SEAT_NOT_FOUND (details.seatIds)' },
        409: { description: 'SEAT_UNAVAILABLE, EVENT_NOT_ON_SALE' },
        422: { description: 'TOO_MANY_SEATS' },
      },
    },
    async ({ params, body, user }) => ({ status: 201, body: await s.seats.hold(user, params.id, { seatIds: body.seatIds, customer: body.customer }) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/holds/:token/book',
      summary: 'Book a hold at the box office (idempotent by Idempotency-Key); the booking carries the walk-in customer',
      tag: TAG,
      access: STAFF,
      params: tokenParams,
      headers: { 'Idempotency-Key': { required: true, description: '8-100 printable characters; a repeat returns the same booking' } },
      responses: {
        201: { description: 'Booked', schema: bookingView },
        200: { description: 'A repeat: the same booking (Idempotent-Replayed: true)', schema: bookingView },
        404: { description: 'HOLD_NOT_FOUND' },
        409: { description: 'HOLD_EXPIRED, HOLD_RELEASED, HOLD_ALREADY_BOOKED, HOLD_EMPTY, EVENT_NOT_ON_SALE' },
        422: { description: 'IDEMPOTENCY_KEY_REUSED' },
      },
    },
    async ({ params, user, header }) => {
      const key = idempotencyKey.safeParse(header('Idempotency-Key'));
      if (!key.success) throw new ValidationError('Invalid Idempotency-Key header', issuesToDetails(key.error).map((d) => ({ ...d, path: 'Idempotency-Key' })));
      const { booking, replayed } = await s.bookings.confirm(user, params.token, key.data);
      return { status: replayed ? 200 : 201, body: booking, headers: replayed ? { 'Idempotent-Replayed': 'true' } : undefined };
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/admin/holds/:token',
      summary: "Force-release anyone's hold (or some of its seats)",
      tag: TAG,
      access: STAFF,
      params: tokenParams,
      body: forceReleaseBody,
      responses: { 200: { description: 'Released seat ids and what is left of the hold', schema: releaseView }, 404: { description: 'HOLD_NOT_FOUND' }, 409: { description: 'HOLD_EXPIRED, HOLD_RELEASED, HOLD_ALREADY_BOOKED, SEAT_NOT_IN_HOLD' } },
    },
    async ({ params, body, user }) => ({ body: await s.seats.release(user, params.token, body?.seatIds) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/events/:id/seats/block',
      summary: 'Block seats (house seats, broken seats); broadcast live',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      body: blockBody,
      responses: { 200: { description: 'The seats now', schema: seatsView }, 404: { description: 'EVENT_NOT_FOUND, SEAT_NOT_FOUND' }, 409: { description: 'SEAT_UNAVAILABLE, EVENT_CANCELLED' } },
    },
    async ({ params, body, user }) => ({ body: await s.boxOffice.block(user, params.id, body.seatIds, body.reason) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/events/:id/seats/unblock',
      summary: 'Unblock seats; they are offered to the waitlist first',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      body: unblockBody,
      responses: { 200: { description: 'The seats now', schema: seatsView }, 404: { description: 'EVENT_NOT_FOUND, SEAT_NOT_FOUND' }, 409: { description: 'SEAT_NOT_BLOCKED, EVENT_CANCELLED' } },
    },
    async ({ params, body, user }) => ({ body: await s.boxOffice.unblock(user, params.id, body.seatIds) }),
  );

  api.route(
    {
      method: 'get',
      path: '/admin/bookings',
      summary: 'All bookings (paginated, filtered by event and status, sorted)',
      tag: TAG,
      access: STAFF,
      query: listBookingsQuery,
      responses: { 200: { description: 'A page of bookings', schema: bookingPage } },
    },
    async ({ query, user }) => ({ body: await s.bookings.list(user, query, { all: true }) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/bookings/:id/reseat',
      summary: 'Move a booking to other seats, atomically',
      tag: TAG,
      access: STAFF,
      params: bookingParams,
      body: reseatBody,
      responses: {
        200: { description: 'The booking on its new seats', schema: bookingView },
        404: { description: 'BOOKING_NOT_FOUND, SEAT_NOT_FOUND (details.seatIds)' },
        409: { description: 'SEAT_UNAVAILABLE, BOOKING_ALREADY_CANCELLED, EVENT_CANCELLED' },
      },
    },
    async ({ params, body, user }) => ({ body: await s.boxOffice.reseat(user, params.id, body.seatIds) }),
  );

  api.route(
    {
      method: 'delete',
      path: '/admin/bookings/:id',
      summary: 'Cancel any booking (the booker is told live)',
      tag: TAG,
      access: STAFF,
      params: bookingParams,
      responses: { 200: { description: 'Cancelled', schema: bookingView }, 404: { description: 'BOOKING_NOT_FOUND' }, 409: { description: 'BOOKING_ALREADY_CANCELLED' } },
    },
    async ({ params, user }) => ({ body: await s.boxOffice.cancelBooking(user, params.id) }),
  );
}
