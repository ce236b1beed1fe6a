import { z } from 'zod';
import type { Role } from '../shared/auth-user';
import { bookingPage, bookingView, idempotencyKey } from '../contracts/bookings';
import type { BookingsService } from '../bookings/service';
import { eventPage, eventView, listEventsQuery, createEventInput } from '../contracts/events';
import type { EventsService } from '../events/service';
import { listBookingsQuery } from '../contracts/bookings';
import type { ApiRouter } from '../http/route';
import { holdView, releaseView, seatsView } from '../contracts/seats';
import type { SeatsService } from '../seats/service';
import { ValidationError } from '../shared/errors';
import { idParam, issuesToDetails } from '../shared/validation';
import { layoutView, venueView } from '../contracts/venues';
import type { BoxOfficeService } from './box-office';
import type { ReportsService } from './reports';
import {
  blockBody,
  boxOfficeHoldBody,
  cancelEventBody,
  changesPage,
  changesQuery,
  createVenueBody,
  eventParams,
  eventSeatParams,
  forceReleaseBody,
  listVenuesQuery,
  reportQuery,
  reportView,
  reseatBody,
  staffSnapshotView,
  tokenParams,
  unblockBody,
  updateEventBody,
  updateVenueBody,
} from './schemas';
import { etagOf, versionFromIfMatch, type AdminService } from './service';

export interface AdminRouteServices {
  admin: AdminService;
  boxOffice: BoxOfficeService;
  reports: ReportsService;
  seats: SeatsService;
  bookings: BookingsService;
  events: EventsService;
}

/** Venue and event writes: admins only. Box office reads them and runs the sale. */
const ADMIN: Role[] = ['admin'];
const STAFF: Role[] = ['admin', 'box_office'];
const TAG = 'admin';
const ifMatch = { 'If-Match': { required: true, description: 'The ETag you read (e.g. "3"); a stale one gets 412 and changes nothing' } };
const venueDetail = venueView.extend({ layout: layoutView });
const bookingParams = z.object({ id: idParam }).strict();

/** Everything under /api/admin: venues, events, box office, reports. */
export function registerAdminRoutes(api: ApiRouter, s: AdminRouteServices): void {
  // ---- venues ----
  api.route(
    {
      method: 'get',
      path: '/admin/venues',
      summary: 'List venues (paginated, filtered by name, sorted)',
      tag: TAG,
      access: STAFF,
      query: listVenuesQuery,
      responses: { 200: { description: 'A page of venues', schema: z.object({ items: z.array(venueView), page: z.number(), limit: z.number(), total: z.number() }) } },
    },
    async ({ query }) => ({ body: await s.admin.listVenues(query) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/venues',
      summary: 'Create a venue from an imported JSON layout and/or generated rectangular and curved sections',
      tag: TAG,
      access: ADMIN,
      body: createVenueBody,
      responses: {
        201: { description: 'Created, with its layout', schema: venueDetail },
        422: { description: 'EMPTY_LAYOUT, DUPLICATE_SEAT_LABELS, DUPLICATE_SECTION_NAMES, LAYOUT_TOO_LARGE' },
      },
    },
    async ({ body }) => {
      const venue = await s.admin.createVenue(body);
      return { status: 201, body: venue, headers: { ETag: etagOf(venue.version) } };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/admin/venues/:id',
      summary: 'A venue with its layout (ETag carries its version)',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      responses: { 200: { description: 'The venue', schema: venueDetail }, 404: { description: 'VENUE_NOT_FOUND' } },
    },
    async ({ params }) => {
      const venue = await s.admin.getVenue(params.id);
      return { body: venue, headers: { ETag: etagOf(venue.version) } };
    },
  );

  api.route(
    {
      method: 'patch',
      path: '/admin/venues/:id',
      summary: 'Rename a venue or change its address (If-Match required)',
      tag: TAG,
      access: ADMIN,
      params: eventParams,
      body: updateVenueBody,
      headers: ifMatch,
      responses: { 200: { description: 'Updated', schema: venueView }, 412: { description: 'PRECONDITION_FAILED' }, 428: { description: 'PRECONDITION_REQUIRED' } },
    },
    async ({ params, body, header }) => {
      const venue = await s.admin.updateVenue(params.id, body, versionFromIfMatch(header('If-Match')));
      return { body: venue, headers: { ETag: etagOf(venue.version) } };
    },
  );

  // ---- events ----
  api.route(
    {
      method: 'get',
      path: '/admin/events',
      summary: 'List events including drafts (paginated, filtered, sorted)',
      tag: TAG,
      access: STAFF,
      query: listEventsQuery,
      responses: { 200: { description: 'A page of events', schema: eventPage } },
    },
    async ({ query }) => ({ body: await s.events.list(query, { includeDrafts: true }) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/events',
      summary: 'Create an event (draft or on sale) with prices per category, hold time and order limits',
      tag: TAG,
      access: ADMIN,
      body: createEventInput,
      responses: { 201: { description: 'Created', schema: eventView }, 404: { description: 'VENUE_NOT_FOUND' }, 422: { description: 'MISSING_PRICES' } },
    },
    async ({ body }) => {
      const event = await s.admin.createEvent(body);
      return { status: 201, body: event, headers: { ETag: etagOf(event.version) } };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/admin/events/:id',
      summary: 'An event (drafts too); the ETag carries its version',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      responses: { 200: { description: 'The event', schema: eventView }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params }) => {
      const event = await s.admin.getEvent(params.id);
      return { body: event, headers: { ETag: etagOf(event.version) } };
    },
  );

  api.route(
    {
      method: 'patch',
      path: '/admin/events/:id',
      summary: 'Change an event or move it draft → on_sale → closed (If-Match required)',
      tag: TAG,
      access: ADMIN,
      params: eventParams,
      body: updateEventBody,
      headers: ifMatch,
      responses: {
        200: { description: 'Updated', schema: eventView },
        409: { description: 'INVALID_STATUS_TRANSITION, EVENT_CANCELLED' },
        412: { description: 'PRECONDITION_FAILED (stale If-Match)' },
        422: { description: 'UNKNOWN_CATEGORY, INVALID_TIMES' },
        428: { description: 'PRECONDITION_REQUIRED' },
      },
    },
    async ({ params, body, header }) => {
      const event = await s.admin.updateEvent(params.id, body, versionFromIfMatch(header('If-Match')));
      return { body: event, headers: { ETag: etagOf(event.version) } };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/admin/events/:id/cancel',
      summary: 'Cancel an event: cancels its bookings, releases its holds, tells everyone live (If-Match required)',
      tag: TAG,
      access: ADMIN,
      params: eventParams,
      body: cancelEventBody,
      headers: ifMatch,
      responses: {
        200: { description: 'Cancelled', schema: eventView.extend({ cancelledBookings: z.number(), releasedHolds: z.number() }) },
        409: { description: 'EVENT_ALREADY_CANCELLED' },
        412: { description: 'PRECONDITION_FAILED' },
      },
    },
    async ({ params, body, header, user }) => {
      const event = await s.admin.cancelEvent(user, params.id, versionFromIfMatch(header('If-Match')), body.reason);
      return { body: event, headers: { ETag: etagOf(event.version) } };
    },
  );

  // ---- box office ----
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
    async ({ params }) => ({ body: await s.boxOffice.staffSnapshot(params.id) }),
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
      responses: { 201: { description: 'Held', schema: holdView }, 409: { description: 'SEAT_UNAVAILABLE, EVENT_NOT_ON_SALE' } },
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
        409: { description: 'HOLD_EXPIRED, HOLD_EMPTY, EVENT_NOT_ON_SALE' },
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
      responses: { 200: { description: 'Released seat ids and what is left of the hold', schema: releaseView }, 404: { description: 'HOLD_NOT_FOUND' }, 409: { description: 'HOLD_EXPIRED, SEAT_NOT_IN_HOLD' } },
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
      responses: { 200: { description: 'The booking on its new seats', schema: bookingView }, 409: { description: 'SEAT_UNAVAILABLE, BOOKING_ALREADY_CANCELLED' } },
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

  // ---- history and reports ----
  api.route(
    {
      method: 'get',
      path: '/admin/events/:id/changes',
      summary: 'Seat change log with actors (newest first; filter by seat, reason, actor; page with `before`)',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      query: changesQuery,
      responses: { 200: { description: 'Changes', schema: changesPage }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params, query }) => ({ body: await s.boxOffice.changes(params.id, query) }),
  );

  api.route(
    {
      method: 'get',
      path: '/admin/events/:id/seats/:seatId/history',
      summary: "A seat's history, oldest first",
      tag: TAG,
      access: STAFF,
      params: eventSeatParams,
      responses: { 200: { description: 'Changes', schema: changesPage }, 404: { description: 'EVENT_NOT_FOUND, SEAT_NOT_FOUND' } },
    },
    async ({ params }) => ({ body: await s.boxOffice.seatHistory(params.id, params.seatId) }),
  );

  api.route(
    {
      method: 'get',
      path: '/admin/events/:id/report',
      summary: 'Seats by status, category and section, and revenue; `?format=csv` exports one row per seat',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      query: reportQuery,
      responses: { 200: { description: 'The report (JSON), or with `?format=csv` the CSV export (text/csv)', schema: reportView, text: 'text/csv' }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params, query }) => {
      if (query.format === 'csv') {
        return {
          text: { contentType: 'text/csv; charset=utf-8', content: await s.reports.csv(params.id) },
          headers: { 'Content-Disposition': `attachment; filename="event-${params.id}-seats.csv"` },
        };
      }
      return { body: await s.reports.report(params.id) };
    },
  );
}
